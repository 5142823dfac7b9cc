"""Embedding backends: ONNX matches torch, ONNX never imports torch, the model is named by its files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import model_hash
from rag.embedding.embedders import BACKENDS, DEFAULT_BACKEND, get_embedder
from rag.errors import ConfigError, IndexMismatchError
from rag.index.facade import Index, choose_backend
from rag.index.sync import sync
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("torch", "sentence_transformers", "transformers")
TEXTS = [
    "The harbour bridge reopened on Monday.",
    "Apple growers expect a smaller harvest after a late frost destroyed blossoms on the lower slopes, "
    "and cider apple prices have risen by fifteen percent at the Tuesday market in the valley town.",
    "Chess",
]


def _modules_after(code: str, env: dict[str, str] | None = None, heavy: tuple[str, ...] = HEAVY) -> set[str]:
    """Run ``code`` in a fresh interpreter and return the heavy modules it imported."""
    probe = code + f"\nimport sys, json; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_settings_know_every_backend() -> None:
    for name in BACKENDS:
        assert Settings(embed_backend=name).embed_backend == name
    with pytest.raises(ConfigError, match="embed_backend"):
        Settings.from_env(embed_backend="tensorflow")


def test_backend_defaults_to_the_one_the_index_was_built_with() -> None:
    assert choose_backend("", None) == DEFAULT_BACKEND  # a new index
    assert choose_backend("", {"embedding_backend": "torch"}) == "torch"
    assert choose_backend("onnx-int8", {"embedding_backend": "torch"}) == "onnx-int8"  # refused later


def test_model_digest_is_cached_by_size_and_mtime(tmp_path, monkeypatch) -> None:
    model = tmp_path / "model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "config.json").write_text('{"hidden": 384}')
    (model / "1_Pooling" / "config.json").write_text("{}")
    (model / "README.md").write_text("notes")
    first = model_hash.model_digest(model, tmp_path / "cache")
    hashed: list[int] = []
    real = model_hash._hash
    monkeypatch.setattr(model_hash, "_hash", lambda root, files: hashed.append(1) or real(root, files))
    assert model_hash.model_digest(model, tmp_path / "cache") == first and not hashed  # from the cache
    (model / "README.md").write_text("other notes")  # documentation is not the model
    assert model_hash.model_digest(model, tmp_path / "cache") == first
    (model / "config.json").write_text('{"hidden": 768}')
    assert model_hash.model_digest(model, tmp_path / "cache") != first and hashed


def test_help_imports_no_model() -> None:
    code = "from rag.cli import build_parser\nfor a in (['--help'], ['eval', '--help']):\n" \
           "    try: build_parser().parse_args(a)\n    except SystemExit: pass"
    assert _modules_after(code) == set()


@pytest.mark.slow
def test_onnx_vectors_match_torch(settings) -> None:
    path, cache = settings.resolved_model_path, settings.cache_dir
    reference = get_embedder(path, settings.model_name, "torch", cache).embed(TEXTS)
    onnx = get_embedder(path, settings.model_name, "onnx", cache).embed(TEXTS)  # one padded batch
    int8 = get_embedder(path, settings.model_name, "onnx-int8", cache).embed(TEXTS)
    assert onnx.shape == reference.shape == (3, 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert (onnx * reference).sum(axis=1).min() > 0.9999
    assert (int8 * reference).sum(axis=1).min() > 0.9


@pytest.mark.slow
def test_querying_an_onnx_index_never_imports_torch_or_chromadb(settings, corpus) -> None:
    sync(replace(settings, embed_backend="onnx"))
    env = {"RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(corpus),
           "RAG_CACHE_DIR": str(settings.cache_dir)}
    ask = "import rag\nassert rag.ask('When did the harbour bridge reopen?').citations"
    assert _modules_after(ask, env, (*HEAVY, "chromadb")) == set()  # a small local index: the cache alone
    unchanged = "from rag.index.sync import sync\nfrom rag.settings import Settings\n" \
                "assert sync(Settings.from_env()).docs_unchanged == 3"
    assert _modules_after(unchanged, env) == set()


@pytest.mark.slow
def test_an_index_keeps_its_backend_and_refuses_another(settings, corpus) -> None:
    sync(replace(settings, embed_backend="torch"))
    index = Index(settings)  # no backend set: the index's own
    assert index.embedder.backend == "torch" and index.fingerprint["embedding_model_sha256"]
    index.close()
    with pytest.raises(IndexMismatchError, match=r"embedding_backend=torch.*run `rag index --rebuild`"):
        Index(replace(settings, embed_backend="onnx"))
    report = sync(replace(settings, embed_backend="onnx"), rebuild=True)
    assert report.docs_added == 3 and Index(settings).embedder.backend == "onnx"


@pytest.mark.slow
def test_another_model_with_the_same_name_is_refused(settings, corpus, tmp_path) -> None:
    sync(settings)
    original, copy = Path(settings.resolved_model_path), tmp_path / "model-copy"
    for file in original.rglob("*"):  # links to the same weights, one changed config
        if file.is_file() and (file.name != "config.json" or file.parent != original):
            (copy / file.relative_to(original)).parent.mkdir(parents=True, exist_ok=True)
            (copy / file.relative_to(original)).symlink_to(file)
    config = json.loads((original / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "layer_norm_eps": 1e-6}))
    with pytest.raises(IndexMismatchError, match="embedding_model_sha256"):
        Index(replace(settings, model_path=str(copy)))


@pytest.mark.slow
def test_cli_flag_chooses_the_backend_and_a_mismatch_is_one_line(settings, corpus) -> None:
    args = ["--index-dir", str(settings.index_dir), "--corpus-dir", str(corpus)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_CACHE_DIR": str(settings.cache_dir)}
    built = subprocess.run([sys.executable, "-m", "rag", "index", "--embed-backend", "onnx", *args],
                           capture_output=True, text=True, env=env, timeout=300)
    assert built.returncode == 0, built.stderr
    refused = subprocess.run([sys.executable, "-m", "rag", "ask", "Who won?", "--embed-backend", "torch", *args],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "embedding_backend=onnx" in refused.stderr
    assert "run `rag index --rebuild`" in refused.stderr
