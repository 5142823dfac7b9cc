"""Retrieval quality per embedding backend: `rag eval` on SQuAD (2,000 questions) and CoQA (all 1,497 turns).

Each backend gets its own cached eval index (rag.evaluation.run.eval_settings puts the backend in the path).
Writes bench/results/bench_eval_backends-<backend>.json with the commands and the `rag eval --json` reports.

Run: .venv/bin/python bench/bench_eval_backends.py [--backend onnx ...] [--squad FILE] [--coqa FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append", help="repeatable; default torch, onnx, onnx-int8")
    parser.add_argument("--collect", type=Path, help="only gather DIR/<backend>-squad.json, -coqa.json of these "
                        "same commands run earlier (one per process, in parallel)")
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    args = parser.parse_args()
    for backend in args.backend or ["torch", "onnx", "onnx-int8"]:
        runs, commands = {}, []
        for name, dataset, extra in (("SQuAD dev, 2000 questions", args.squad, ["--limit", "2000"]),
                                     ("CoQA CNN, all turns", args.coqa, ["--turns", "all"])):
            cmd = ["rag", "eval", str(dataset), *extra, "--embed-backend", backend, "--json"]
            if args.collect:
                path = args.collect / f"{backend}-{'squad' if 'SQuAD' in name else 'coqa'}.json"
                if path.exists() and path.stat().st_size:
                    runs[name] = json.loads(path.read_text())
                    commands.append(" ".join(cmd))
                continue
            commands.append(" ".join(cmd))
            out = subprocess.run([sys.executable, "-m", "rag", *cmd[1:]], capture_output=True, text=True,
                                 check=True)
            runs[name] = json.loads(out.stdout)
        if not runs:
            continue
        result = {"backend": backend, "commands": commands, "runs": runs}
        out = ROOT / "bench" / "results" / f"bench_eval_backends-{backend}.json"
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(backend, {n: r["retrieval"]["hybrid"] for n, r in runs.items()})


if __name__ == "__main__":
    main()
