# Sourced by the scripts beside it: makes .venv with flexorm installed (with extras "$1", if any).
# Works on a fresh Debian machine: installs python3-venv when the interpreter lacks ensurepip.
set -euo pipefail
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "flexorm needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    echo "== installing python3-venv (Debian package)"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
echo "== installing flexorm${1:+[$1]} into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${1:+[$1]}"
