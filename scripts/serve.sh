#!/usr/bin/env bash
# Sets up .venv and runs `flexorm serve` with the given arguments (none: the bundled demo).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh ""
exec .venv/bin/flexorm serve "$@"
