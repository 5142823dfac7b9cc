#!/usr/bin/env bash
# Set up (if needed), build the demo index if it is empty, and answer a sample question.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/rag index --demo
