"""LangChain integration for Lamina: documents parsed by Lamina, page by page or item by item,
and an agent tool that extracts typed fields with citations."""

from importlib import metadata

from lamina.ingest import PageParseError
from langchain_lamina.document_loaders import LaminaBlobParser, LaminaLoader
from langchain_lamina.tools import LaminaExtractInput, LaminaExtractTool

try:
    __version__ = metadata.version(__package__ or "langchain-lamina")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "LaminaBlobParser",
    "LaminaExtractInput",
    "LaminaExtractTool",
    "LaminaLoader",
    "PageParseError",
    "__version__",
]
