"""LlamaIndex reader for Lamina: ``from llama_index.readers.lamina import LaminaReader``."""

from llama_index.readers.lamina.base import LaminaReader

from lamina.ingest import ITEMS_KEY, PageParseError

__all__ = ["ITEMS_KEY", "LaminaReader", "PageParseError"]
