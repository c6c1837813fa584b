"""LlamaIndex node parser for Lamina: ``from llama_index.node_parser.lamina import
LaminaNodeParser``."""

from llama_index.node_parser.lamina.base import LaminaNodeParser

__all__ = ["LaminaNodeParser"]
