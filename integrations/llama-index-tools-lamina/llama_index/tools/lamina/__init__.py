"""LlamaIndex tools for Lamina: ``from llama_index.tools.lamina import LaminaToolSpec``."""

from llama_index.tools.lamina.base import LaminaToolSpec

__all__ = ["LaminaToolSpec"]
