#!/usr/bin/env bash
# Set up (if needed) and run the linter, the fast tier (no model), then everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
.venv/bin/ruff check .
.venv/bin/pytest -q -m "not slow" "$@"
.venv/bin/pytest -q -m slow "$@"
