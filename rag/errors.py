"""The one error hierarchy of the project.

Library code raises these; the CLI and the UI catch ``RagError`` at their
boundary and show ``str(error)`` to the user instead of a traceback.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: anything a user can fix or should be told about."""


class ConfigError(RagError):
    """A setting or flag has a value we cannot use."""


class InputError(RagError):
    """A question, query or argument given by the user is not usable."""


class LoadError(RagError):
    """An article file cannot be read or parsed; the file is skipped."""


class FetchError(RagError):
    """A feed or page could not be downloaded or parsed."""


class RateLimitedError(FetchError):
    """The server said "too many requests" (429) or "unavailable" (503): try again after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IndexEmptyError(RagError):
    """There is nothing indexed yet."""

    def __init__(self, message: str = "the index is empty: run `rag index`") -> None:
        super().__init__(message)


class IndexMismatchError(RagError):
    """The index was built with another embedding model or chunker."""

    @classmethod
    def between(cls, where: str, stored: dict[str, object], wanted: dict[str, object]) -> IndexMismatchError:
        built = ", ".join(f"{k}={stored.get(k)}" for k in wanted)
        using = ", ".join(f"{k}={v}" for k, v in wanted.items())
        return cls(f"the index at {where} was built with {built}, but this run uses {using}: run `rag index --rebuild`")


class IndexLockedError(RagError):
    """Another process or instance is writing to the index (its lock or lease is held)."""


class StoreUnavailableError(RagError):
    """The Chroma server cannot be reached or refused a request."""


class DocumentNotFoundError(RagError):
    """A document id that is not in the index."""


class ModelError(RagError):
    """A language model cannot be installed, loaded or reached (the answer falls back to extractive)."""
