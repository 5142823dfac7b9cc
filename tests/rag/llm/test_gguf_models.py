"""`rag models`: assembling GGUF files from installed packages, checked by sha256."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.registry import make_answerer
from rag.cli import main
from rag.errors import ConfigError, ModelError
from rag.llm import gguf_models
from rag.settings import Settings


@pytest.fixture
def data(tmp_path: Path) -> Settings:
    return Settings.from_env(data_dir=tmp_path / "data")


def test_install_checks_the_sha256_and_lists_the_model(data: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    path = gguf_models.install("smollm2-135m", data)
    assert path == data.data_dir / "models" / "smollm2-135m.gguf" and path.read_bytes()[:4] == b"GGUF"
    assert gguf_models.resolve("smollm2-135m", data) == path
    row = next(r for r in gguf_models.status(data) if r.name == "smollm2-135m")
    assert row.installed == path and row.missing_packages == []


def test_a_wrong_sha256_leaves_nothing_behind(data: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = dataclasses.replace(gguf_models.MODELS["smollm2-135m"], name="broken", sha256="0" * 64)
    monkeypatch.setitem(gguf_models.MODELS, "broken", bad)
    with pytest.raises(ModelError, match="does not match the expected"):
        gguf_models.install("broken", data)
    assert list((data.data_dir / "models").iterdir()) == []


def test_missing_packages_and_models_are_clear_errors(data: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = gguf_models.ModelSpec("gone", "test", (("no_such_package_xyz", "model.gguf"),), "0" * 64)
    monkeypatch.setitem(gguf_models.MODELS, "gone", gone)
    with pytest.raises(ModelError, match="needs the packages no-such-package-xyz"):
        gguf_models.install("gone", data)
    with pytest.raises(ModelError, match=r"run `rag models install qwen2\.5-coder-1\.5b`"):
        gguf_models.resolve("qwen2.5-coder-1.5b", data)
    with pytest.raises(ConfigError, match="neither a known model"):
        gguf_models.resolve("/nowhere/model.bin", data)
    with pytest.raises(ConfigError, match="unknown model"):
        gguf_models.install("gpt-9", data)


def test_answerer_names(data: Settings) -> None:
    gate = ExtractiveAnswerer(lambda term: 1.0)
    assert make_answerer("extractive", data, gate) is gate
    with pytest.raises(ConfigError, match="choose one of: extractive, llamacpp, openai"):
        make_answerer("gpt", data, gate)
    with pytest.raises(ModelError, match="RAG_OPENAI_BASE_URL"):
        make_answerer("openai", data, gate)
    with pytest.raises(ModelError, match="rag models install"):
        make_answerer("llamacpp", data, gate)


def test_models_cli(data: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(data.data_dir))
    assert main(["models", "install", "smollm2-135m"]) == 0
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "smollm2-135m installed" in out and "qwen2.5-coder-1.5b" in out
    assert main(["models", "install"]) == 1
    assert "which model?" in capsys.readouterr().err
