"""news-rag: answers from your news articles, with exact citations."""

from .errors import RagError
from .schema import Answer, Chunk, Citation, Document, Hit
from .settings import Settings

__all__ = ["Answer", "Chunk", "Citation", "Document", "Hit", "RagError", "Settings"]
