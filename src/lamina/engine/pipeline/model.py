"""The pipeline's input: one page of positioned lines from any reader, and the options of the
layout pass.

A reader (:mod:`lamina.engine.pdf` for PDFs, :mod:`lamina.engine.images` for image files and
scans) fills a :class:`RawPage` per page; :func:`lamina.engine.pipeline.build_pages` turns them
into :class:`~lamina.engine.result.PageResult` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lamina.engine.layout import Line
from lamina.types import ParseConfiguration

if TYPE_CHECKING:
    from lamina.engine.images import PageExtras  # OCR/images hook


@dataclass(slots=True)
class RawPage:
    """One page's lines and geometry, as read from pdfium or OCR; ``error`` set if reading
    failed."""

    number: int
    width: float = 0.0
    height: float = 0.0
    rotation: int = 0
    lines: list[Line] = field(default_factory=list)
    confidence: float | None = None
    error: str | None = None
    # Ruling segments (x0, y0, x1, y1), displayed page: read only when tables are wanted.
    segments: list[tuple[float, float, float, float]] = field(default_factory=list)
    # URI links: (text under the link, (x0, top, x1, bottom), url).
    links: list[tuple[str, tuple[float, float, float, float], str]] = field(default_factory=list)
    # OCR/images hook (lamina.engine.images): saved images, image items, OCR facts.
    extras: PageExtras | None = None


@dataclass(slots=True)
class LayoutOptions:
    """What the configuration asks of the layout pass (defaults: the API's)."""

    tables: bool = False
    merge_tables: bool = True
    compact_tables: bool = False
    tables_as_markdown: bool = True
    printed_page_number: bool = True
    annotate_links: bool = False
    cell_bboxes: bool = False  # output_options.granular_bboxes has "cell": a box per cell

    @classmethod
    def from_config(cls, config: ParseConfiguration | None) -> LayoutOptions:
        """Options from a configuration: tables from the ``cost_effective`` tier up."""
        if config is None:
            return cls()
        out = config.output_options
        md = out.markdown if out else None
        tbl = md.tables if md else None
        return cls(
            tables=config.tier not in ("fast",),
            merge_tables=not (tbl is not None and tbl.merge_continued_tables is False),
            compact_tables=bool(tbl and tbl.compact_markdown_tables),
            tables_as_markdown=not (tbl is not None and tbl.output_tables_as_markdown is False),
            printed_page_number=not (out is not None and out.extract_printed_page_number is False),
            annotate_links=bool(md and md.annotate_links),
            cell_bboxes=bool(out and out.granular_bboxes and "cell" in out.granular_bboxes),
        )
