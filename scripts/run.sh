#!/usr/bin/env bash
# Set up (if needed) and start the chat UI on 127.0.0.1:7860. With an empty index, `rag serve`
# first indexes the corpus folder, importing the BBC News demo articles when it is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/rag serve "$@"
