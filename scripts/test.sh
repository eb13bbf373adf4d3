#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine, then runs it:
# Debian's PostgreSQL and MariaDB servers (the tests start servers of their own in temporary
# folders), .venv with flexorm and its test tools, then ruff, mypy (strict) and pytest. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${FLEXORM_TEST_POSTGRES_URL:-}" ]; then
  packages+=(postgresql)
fi
if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ] \
    && [ -z "${FLEXORM_TEST_MARIADB_URL:-}" ]; then
  packages+=(mariadb-server)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "== installing ${packages[*]} (Debian packages)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # their system services are not used: the tests start servers of their own
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
fi

source scripts/_venv.sh test

echo "== ruff"
.venv/bin/ruff check flexorm tests examples bench docs devservers
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
