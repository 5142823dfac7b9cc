#!/usr/bin/env bash
# What a cold `rag index` process cannot avoid: each piece in its own fresh process, median of 5.
# Run from the repository root after bench/bench_index.py:
#   RAG_CACHE_DIR=... bash bench/cold_floor.sh WORKDIR/index-onnx-int8
set -euo pipefail
index="${1:?usage: bench/cold_floor.sh INDEX_DIR}"
cache="${RAG_CACHE_DIR:-$HOME/.cache/news-rag}"
py=.venv/bin/python

timed() {  # NAME COMMAND...: median wall seconds of 5 runs
    local name="$1" runs=()
    shift
    for _ in 1 2 3 4 5; do
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s.%N)
        runs+=("$(echo "$end - $start" | bc)")
    done
    printf '%s: median %s s (runs %s)\n' "$name" \
        "$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)" "${runs[*]}"
}

timed "python -c pass" $py -c pass
timed "import rag.cli, rag.index.sync (chromadb included)" $py -c "import rag.cli, rag.index.sync"
timed "import chromadb" $py -c "import chromadb"
timed "chromadb + its client on the index" $py -c "
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path='$index/chroma', settings=Settings(anonymized_telemetry=False))
[c.count() for c in client.list_collections()]"
timed "onnx-int8 session (onnxruntime imported)" $py -c "
import glob, onnxruntime
onnxruntime.InferenceSession(glob.glob('$cache/onnx/*/model-int8-per-channel.onnx')[0],
                             providers=['CPUExecutionProvider'])"
timed "tiktoken cl100k" $py -c "
import os
os.environ['TIKTOKEN_CACHE_DIR'] = '$cache/tiktoken'
import tiktoken
tiktoken.get_encoding('cl100k_base').encode('hello')"
