"""The Gradio chat UI of news-rag: ``rag serve`` or ``python -m ui``."""
