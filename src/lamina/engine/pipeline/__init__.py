"""The format-independent page pipeline: :class:`RawPage` objects (positioned lines, ruling
segments, links) from a reader in, :class:`~lamina.engine.result.PageResult` objects out.

- :mod:`~lamina.engine.pipeline.model`: the input (:class:`RawPage`) and the options
  (:class:`LayoutOptions`, read from the configuration);
- :mod:`~lamina.engine.pipeline.build`: the document passes (:func:`build_pages`): furniture,
  tables, column order, blocks, headings ranked over the document;
- :mod:`~lamina.engine.pipeline.items`: the item builders (furniture, tables, links, images) and
  :func:`merge_continued_tables`.

The stages themselves live beside it: :mod:`lamina.engine.layout` (lines → blocks, headings),
:mod:`lamina.engine.columns`, :mod:`lamina.engine.tables`, :mod:`lamina.engine.furniture`.
Readers import this package; it imports no reader.
"""

from __future__ import annotations

from lamina.engine.pipeline.build import build_pages
from lamina.engine.pipeline.items import merge_continued_tables, merge_image_items
from lamina.engine.pipeline.model import LayoutOptions, RawPage

__all__ = ["LayoutOptions", "RawPage", "build_pages", "merge_continued_tables", "merge_image_items"]
