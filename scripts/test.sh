#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine, then runs it:
# Debian's PostgreSQL server (the tests start a cluster of their own), .venv with flexorm and its
# test tools, then ruff, mypy (strict) and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${FLEXORM_TEST_POSTGRES_URL:-}" ]; then
  echo "== installing PostgreSQL (Debian package)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

source scripts/_venv.sh test

echo "== ruff"
.venv/bin/ruff check flexorm tests examples bench docs
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
