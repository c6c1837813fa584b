"""Structure-aware chunks: the items of parsed pages → retrieval-sized pieces of one section.

Framework-neutral: the LlamaIndex node parser and the LangChain loader's ``granularity="chunk"``
both build on :class:`Chunker`. What it guarantees:

- ``chunk_size`` is a maximum: measured in tokens when a tokenizer is given, in characters
  otherwise. An item too long for it is split at sentence boundaries (text), at entry or line
  boundaries (lists, code) or between rows (tables, whose header row is repeated in every piece);
  a single sentence or row longer than the limit is cut between words, and a word longer than the
  limit is cut.
- Headings and captions never stand alone: they are carried into the chunk of what follows
  (across a page break if need be), so the embedded text of a table says which section it is in.
- Consecutive items of one section on one page are merged up to the limit; a heading, a table or
  a page break starts a new chunk. Without ``chunk_size`` every item is a chunk of its own (with
  its headings), never split.
- Junk never becomes a chunk: items with no letter or digit (control characters, private-use
  glyphs of symbol fonts, an image with no caption), and page furniture (headers, footers).
  Control characters are stripped from text, with the bullet glyph a symbol font left in front.
- Link annotations become no chunk of their own: their URL goes to the ``links`` of the chunk
  whose boxes they overlap (or whose text holds their anchor text). Markdown links in the text
  (``unwrap_links``, default on) become their anchor text, their targets joining ``links``, and
  footnote markers (``[[12]](#cite_note-12)``) go: a URL costs tokens of the chunk size and says
  nothing to an embedding model (code and images are kept as written).
- ``section_in_text`` puts the section path (``Title > Section``, the headings not already at the
  head of the chunk) on the chunk's first line, for stores that embed the text alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lamina.ingest._records import HeaderPath, Scalar, _overlap, item_text
from lamina.ingest._text import clean_text, has_content, is_junk, unwrap_links
from lamina.types import HeadingItem, ImageItem, ItemsPage, LinkItem, TableItem

SizeFunction = Callable[[str], int]
Tokenizer = Callable[[str], Sequence[Any]]

_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\"')\]]*\s+(?=\S)")
_CAPTION = re.compile(
    r"^\W{0,3}(table|tab\.|figure|fig\.|chart|exhibit|listing|image)\s*[\dIVXivx]+[a-z]?\b",
    re.IGNORECASE,
)
_MARKER_ONLY = re.compile(r"\s*(?:[-*+]|\d{1,3}[.)]|[a-zA-Z][.)])")
_LIST_ENTRY = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s")
_HEADING_MD = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MAX_CAPTION = 300
_FLOWING = frozenset({"text", "list", "code"})
"""Items that may start in one chunk and go on in the next (tables start their own)."""


@dataclass
class Unit:
    """One item (or markdown block) ready for chunking."""

    kind: str
    text: str
    index: int
    level: int = 0
    title: str = ""
    boxes: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Scalar] = field(default_factory=dict)
    source: str = ""
    """The text as the page markdown has it, where ``text`` was changed (links unwrapped)."""


@dataclass
class Link:
    """A link annotation: its anchor text, URL and boxes."""

    text: str
    url: str
    boxes: list[dict[str, float]] = field(default_factory=list)


@dataclass
class ChunkPage:
    """A page to chunk: its number, markdown (for offsets) and units in reading order."""

    page_number: int
    markdown: str
    units: list[Unit]
    links: list[Link] = field(default_factory=list)
    context: Any = None
    """Whatever the caller needs to map chunks back (e.g. the page Document)."""


@dataclass
class Chunk:
    """A retrieval unit: text, where it is, what it holds."""

    page: ChunkPage
    first_index: int
    part: int
    text: str
    item_type: str
    header_path: str
    level: int | None = None
    boxes: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Scalar] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    start: int | None = None
    end: int | None = None
    parent_key: tuple[str, ...] = ()
    section_keys: list[tuple[str, ...]] = field(default_factory=list)

    def metadata(self) -> dict[str, Scalar]:
        """The chunk's own flat metadata keys."""
        meta: dict[str, Scalar] = {"item_type": self.item_type, "item_index": self.first_index}
        if self.part:
            meta["chunk_part"] = self.part
        if self.level is not None:
            meta["level"] = self.level
        meta["header_path"] = self.header_path
        if self.boxes:
            meta["bbox"] = json.dumps(self.boxes)
        meta.update(self.extra)
        if self.links:
            meta["links"] = json.dumps(self.links, ensure_ascii=False)
        return meta


# --- units from items or from markdown ----------------------------------------------------------


def units_from_items(page: ItemsPage) -> tuple[list[Unit], list[Link]]:
    """The chunkable units and the link annotations of a page's items (junk left out)."""
    units: list[Unit] = []
    links: list[Link] = []
    for index, item in enumerate(page.items):
        boxes = [_box(b) for b in item.bbox or []]
        if isinstance(item, LinkItem):
            if item.url:
                links.append(Link(clean_text(item.text).strip(), item.url, boxes))
            continue
        if is_junk(item):
            continue
        text = clean_text(item_text(item)).strip()
        if isinstance(item, HeadingItem):
            title = clean_text(item.value).strip()
            units.append(Unit("heading", text, index, item.level, title, boxes))
        elif isinstance(item, TableItem):
            extra: dict[str, Scalar] = {}
            if item.html:
                extra["table_html"] = item.html
            if item.csv:
                extra["table_csv"] = item.csv
            units.append(Unit("table", text, index, boxes=boxes, extra=extra))
        elif isinstance(item, ImageItem):
            units.append(Unit("image", text, index, boxes=boxes))
        else:
            kind = str(item.type)
            if kind == "text" and _CAPTION.match(text) and len(text) <= _MAX_CAPTION:
                kind = "caption"
            units.append(Unit(kind, text, index, boxes=boxes))
    return units, links


def units_from_markdown(markdown: str) -> list[Unit]:
    """Units from page markdown alone (no items): headings, tables, code fences, lists and
    paragraphs, told apart by their markdown."""
    units: list[Unit] = []
    lines = clean_text(markdown).split("\n")
    block: list[str] = []
    kind = ""
    in_fence = False

    def flush() -> None:
        nonlocal block, kind
        text = "\n".join(block).strip()
        if text and has_content(text):
            unit_kind = kind or "text"
            if unit_kind == "text" and _CAPTION.match(text) and len(text) <= _MAX_CAPTION:
                unit_kind = "caption"
            units.append(Unit(unit_kind, text, len(units)))
        block, kind = [], ""

    for line in lines:
        stripped = line.strip()
        if in_fence:
            block.append(line)
            if stripped.startswith("```"):
                in_fence = False
                flush()
            continue
        if stripped.startswith("```"):
            flush()
            block, kind, in_fence = [line], "code", True
            continue
        heading = _HEADING_MD.match(stripped)
        if heading:
            flush()
            level, title = len(heading.group(1)), heading.group(2)
            if has_content(title):
                units.append(Unit("heading", stripped, len(units), level, title))
            continue
        if not stripped:
            flush()
            continue
        line_kind = (
            "table" if stripped.startswith("|") else "list" if _LIST_ENTRY.match(stripped) else ""
        )
        if block and line_kind != kind and not (kind == "list" and line.startswith((" ", "\t"))):
            flush()
        if not block:
            kind = line_kind
        block.append(line)
    flush()
    return units


def _unwrapped(page: ChunkPage) -> ChunkPage:
    """The page with its units' markdown links reduced to anchor text (code and images kept);
    the targets become link annotations, which find their chunk by anchor text."""
    units: list[Unit] = []
    links = list(page.links)
    for unit in page.units:
        if unit.kind in ("code", "image"):
            units.append(unit)
            continue
        text, found = unwrap_links(unit.text)
        if not found:
            units.append(unit)
            continue
        title = unwrap_links(unit.title)[0] if unit.title else unit.title
        units.append(replace(unit, text=text, title=title, source=unit.source or unit.text))
        links.extend(Link(anchor, url) for anchor, url in found if has_content(anchor))
    if units == page.units:
        return page
    return replace(page, units=units, links=links)


def _box(box: Any) -> dict[str, float]:
    return {k: round(float(getattr(box, k)), 2) for k in ("x", "y", "w", "h")}


# --- chunking -----------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A heading or caption waiting for the content it belongs to."""

    unit: Unit
    page: ChunkPage
    span: tuple[int, int] | None


@dataclass
class _Open:
    """A chunk being built."""

    page: ChunkPage
    first_index: int
    part: int
    prefix: list[str]
    opened: list[tuple[str, ...]]
    parent_key: tuple[str, ...]
    content_path: tuple[str, ...]
    level: int | None
    blocks: list[tuple[str, list[str]]] = field(default_factory=list)
    item_type: str = ""
    boxes: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Scalar] = field(default_factory=dict)
    spans: list[tuple[int, int]] = field(default_factory=list)
    exact: bool = True
    is_table: bool = False
    limit: int | None = None
    """The size this chunk may reach: ``chunk_size`` less what ``reserve`` keeps back."""

    def render(self, blocks: list[tuple[str, list[str]]] | None = None) -> str:
        body = [sep.join(lines) for sep, lines in (self.blocks if blocks is None else blocks)]
        return "\n\n".join(part for part in [*self.prefix, *body] if part)


class Chunker:
    """Turns the pages of one document into :class:`Chunk` objects (see the module docstring).

    ``chunk_size``: the maximum size of a chunk, or None for one chunk per item. ``tokenizer``:
    a callable returning the tokens of a text (its length is the size); characters otherwise.
    """

    def __init__(
        self,
        chunk_size: int | None = None,
        tokenizer: Tokenizer | None = None,
        section_in_text: bool = False,
        reserve: Callable[[ChunkPage, str], int] | None = None,
        chunk_overlap: int = 0,
        unwrap_links: bool = True,
    ) -> None:
        """``reserve(page, header_path)``, when given, is the size kept back from ``chunk_size``
        for a chunk of that section on that page: what the embedding will prepend to the text
        (metadata), so that text and metadata together stay within the limit.
        ``chunk_overlap``: where running text of one section goes on in the next chunk, that
        chunk starts with the last sentences (up to this size; else the last words) of the
        chunk before. Never across headings, pages or tables (a table piece repeats its header
        row instead). ``unwrap_links``: markdown links in the text become their anchor text
        (footnote and citation markers go), their targets join the chunk's ``links``; False
        keeps the markdown as the page has it."""
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive number, not {chunk_size!r}")
        if chunk_overlap < 0 or (chunk_size is not None and chunk_overlap >= chunk_size):
            raise ValueError(
                f"chunk_overlap must be at least 0 and less than chunk_size, not {chunk_overlap!r}"
            )
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap if chunk_size is not None else 0
        self.section_in_text = section_in_text
        self.unwrap_links = unwrap_links
        self.reserve = reserve
        self._size: SizeFunction = (lambda t: len(tokenizer(t))) if tokenizer else len

    def chunk(self, pages: Iterable[ChunkPage]) -> list[Chunk]:
        """The chunks of one document's pages, in reading order (headings carried across)."""
        out: list[Chunk] = []
        path = HeaderPath()
        pending: list[_Pending] = []
        opened: list[tuple[str, ...]] = []
        parent: tuple[str, ...] = ()
        for page in pages:
            if self.unwrap_links:
                page = _unwrapped(page)
            current: _Open | None = None
            done: list[Chunk] = []
            cursor = 0
            for unit in page.units:
                span = _find(page.markdown, unit.source or unit.text, cursor)
                if span is not None:
                    cursor = span[1]
                if unit.kind in ("heading", "caption"):
                    if current is not None:
                        done.extend(self._close(current))
                        current = None
                    if unit.kind == "heading":
                        parents = _segments(path.enter(unit.level, unit.title or unit.text))
                        if not any(p.unit.kind == "heading" for p in pending):
                            parent = parents
                        opened.append(_segments(path.current()))
                    pending.append(_Pending(unit, page, span))
                    continue
                content_path = _segments(path.current())
                if (
                    current is not None
                    and not pending
                    and self._mergeable(current, unit, content_path)
                ):
                    if self._fits(current, [("", [unit.text])]):
                        self._append(current, unit, span)
                        continue
                    if unit.kind in _FLOWING and self._room(current) >= 0.25:
                        current = self._split(current, unit, span, done)  # fill, then go on
                        continue
                carried = ""
                if current is not None:
                    done.extend(self._close(current))
                    if not pending and self._mergeable(current, unit, content_path):
                        last = current.blocks[-1][1] if current.blocks else []
                        sentences = [x for line in last for x in _sentences(line)]
                        carried = " ".join(self._tail(sentences))
                current = self._open(page, unit, content_path, pending, opened, parent)
                pending, opened, parent = [], [], ()
                if carried and self._fits(current, [("", [carried]), ("", [unit.text])]):
                    current.blocks.append(("", [carried]))  # the end of the chunk before
                    current.exact = False
                current = self._add(current, unit, span, done)
                if unit.kind == "table" or self.chunk_size is None:
                    done.extend(self._close(current))
                    current = None
            if current is not None:
                done.extend(self._close(current))
            self._attach_links(page, done)
            out.extend(done)
        if pending:  # headings or captions with nothing after them
            out.extend(self._trailing(pending, opened, parent, _segments(path.current())))
        return out

    # -- building -------------------------------------------------------------------------------

    def _mergeable(self, current: _Open, unit: Unit, content_path: tuple[str, ...]) -> bool:
        return (
            self.chunk_size is not None
            and not current.is_table
            and unit.kind != "table"
            and current.content_path == content_path
        )

    def _room(self, chunk: _Open) -> float:
        """The share of the chunk's limit still free."""
        assert chunk.limit is not None
        return 1 - self._size(chunk.render()) / chunk.limit

    def _fits(self, chunk: _Open, extra_blocks: list[tuple[str, list[str]]]) -> bool:
        if chunk.limit is None:
            return True
        return self._size(chunk.render([*chunk.blocks, *extra_blocks])) <= chunk.limit

    def _limit(self, page: ChunkPage, content_path: tuple[str, ...]) -> int | None:
        """``chunk_size`` less the reserve for this page and section (never below a quarter)."""
        if self.chunk_size is None:
            return None
        if self.reserve is None:
            return self.chunk_size
        kept = self.reserve(page, _path_string(content_path))
        return max(self.chunk_size - kept, max(1, self.chunk_size // 4))

    def _open(
        self,
        page: ChunkPage,
        unit: Unit,
        content_path: tuple[str, ...],
        pending: list[_Pending],
        opened: list[tuple[str, ...]],
        parent: tuple[str, ...],
    ) -> _Open:
        here = [p for p in pending if p.page is page]
        headings = [p for p in pending if p.unit.kind == "heading"]
        section_line = self._section_line(content_path, opened)
        prefix = [p.unit.text for p in pending]
        chunk = _Open(
            page=page,
            first_index=here[0].unit.index if here else unit.index,
            part=0,
            prefix=[section_line, *prefix] if section_line else prefix,
            opened=list(opened),
            parent_key=parent if headings else content_path,
            content_path=content_path,
            level=headings[0].unit.level if headings else None,
            boxes=[b for p in here for b in p.unit.boxes],
            spans=[p.span for p in here if p.span is not None],
            limit=self._limit(page, content_path),
        )
        chunk.exact = not section_line and len(here) == len(pending)
        return chunk

    def _section_line(self, content_path: tuple[str, ...], opened: list[tuple[str, ...]]) -> str:
        if not self.section_in_text or not content_path:
            return ""
        depth = min((len(p) for p in opened), default=len(content_path) + 1) - 1
        return " > ".join(content_path[:depth]) if depth > 0 else ""

    def _add(
        self, current: _Open, unit: Unit, span: tuple[int, int] | None, done: list[Chunk]
    ) -> _Open:
        """Put ``unit`` into the fresh chunk ``current``, split when too big; returns the chunk
        left open (the last piece)."""
        current.item_type = "text" if unit.kind == "caption" else unit.kind
        current.is_table = unit.kind == "table"
        current.extra.update(unit.extra)
        if self._fits(current, [("", [unit.text])]):
            self._append(current, unit, span)
            return current
        limit = current.limit
        first_word = unit.text.split(None, 1)[0] if unit.text.strip() else ""
        if (
            current.prefix
            and limit is not None
            and (
                self._size(current.render()) > limit * 7 // 8
                or not self._fits(current, [("", [first_word])])  # no word would fit after them
            )
        ):
            done.extend(self._close_prefix(current))
            current = self._continuation(current, unit)
        return self._split(current, unit, span, done)

    def _append(self, current: _Open, unit: Unit, span: tuple[int, int] | None) -> None:
        current.blocks.append(("", [unit.text]))
        current.boxes.extend(unit.boxes)
        if span is None:
            current.exact = False
        else:
            current.spans.append(span)

    def _split(
        self, chunk: _Open, unit: Unit, span: tuple[int, int] | None, done: list[Chunk]
    ) -> _Open:
        """Fill ``chunk`` and as many continuation chunks as ``unit`` needs."""
        header, atoms, sep = _atoms(unit)
        if header and chunk.limit is not None and self._size("\n".join(header)) > chunk.limit // 2:
            header, atoms = [], [*header, *atoms]  # no room to repeat it: the rows go on alone
        markdown = chunk.page.markdown
        region = span or (0, len(markdown))
        cursor = region[0]
        lines = list(header)
        base = len(lines)  # lines before it are repeated (header) or carried over (overlap)
        chunk.blocks.append((sep, lines))
        chunk.boxes.extend(unit.boxes)
        chunk.exact = False
        for atom in atoms:
            pieces = self._pieces(chunk, header, lines, atom, sep)
            for piece in pieces:
                if len(lines) > base and not self._fits_last(chunk, lines, piece):
                    done.extend(self._close(chunk))
                    carried = [] if chunk.is_table else self._tail(lines[base:])
                    chunk = self._continuation(chunk, unit)
                    lines = [*header, *carried]
                    chunk.blocks.append((sep, lines))
                    while len(lines) > len(header) and not self._fits_last(chunk, lines, piece):
                        lines.pop(len(header))  # the piece comes first; overlap as room allows
                    base = len(lines)
                lines.append(piece)
                found = markdown.find(piece, cursor, region[1])
                if found >= 0:
                    chunk.spans.append((found, found + len(piece)))
                    cursor = found + len(piece)
        return chunk

    def _tail(self, lines: list[str]) -> list[str]:
        """The end of a chunk's last block to repeat at the head of the next: its last pieces
        (sentences, entries) up to ``chunk_overlap``, else the last words of the last one."""
        if not self.chunk_overlap or not lines:
            return []
        kept: list[str] = []
        for piece in reversed(lines):
            if self._size(" ".join([piece, *kept])) > self.chunk_overlap:
                break
            kept.insert(0, piece)
        if not kept:
            words = lines[-1].split()
            while words and self._size(" ".join(words)) > self.chunk_overlap:
                words.pop(0)
            kept = [" ".join(words)] if words else []
        return kept

    def _fits_last(self, chunk: _Open, lines: list[str], piece: str) -> bool:
        sep = chunk.blocks[-1][0]
        return self._fits(_with_blocks(chunk, chunk.blocks[:-1]), [(sep, [*lines, piece])])

    def _pieces(
        self, chunk: _Open, header: list[str], lines: list[str], atom: str, sep: str
    ) -> list[str]:
        """``atom`` as pieces that each fit a continuation chunk (and the first piece the chunk
        at hand, when that chunk has no piece yet)."""
        assert chunk.limit is not None
        limit = chunk.limit
        probe = self._continuation(chunk, None)
        if len(lines) == len(header):  # the first piece of this chunk: measure against it
            probe = _with_blocks(chunk, chunk.blocks[:-1])

        def size(text: str) -> int:
            return self._size(probe.render([*probe.blocks, (sep, [*header, text])]))

        if size(atom) <= limit:
            return [atom]
        pieces: list[str] = []
        sentences = _sentences(atom)
        for sentence in sentences if len(sentences) > 1 else [atom]:
            if size(sentence) <= limit:
                pieces.append(sentence)
                probe = self._continuation(chunk, None)
                continue
            current = ""
            for word in sentence.split(" "):
                candidate = f"{current} {word}" if current else word
                if size(candidate) <= limit:
                    current = candidate
                    continue
                if current:
                    pieces.append(current)
                    probe = self._continuation(chunk, None)
                current = word
                while len(current) > 1 and size(current) > limit:
                    low, high = 1, len(current) - 1
                    while low < high:
                        mid = (low + high + 1) // 2
                        low, high = (mid, high) if size(current[:mid]) <= limit else (low, mid - 1)
                    pieces.append(current[:low])
                    probe = self._continuation(chunk, None)
                    current = current[low:]
            if current:
                pieces.append(current)
                probe = self._continuation(chunk, None)
        return pieces

    def _continuation(self, chunk: _Open, unit: Unit | None) -> _Open:
        """The next piece of a split item: same section, the section line, no headings."""
        line = self._section_line(chunk.content_path, [])
        return _Open(
            page=chunk.page,
            first_index=unit.index if unit is not None else chunk.first_index,
            part=chunk.part + 1 if unit is not None else chunk.part,
            prefix=[line] if line else [],
            opened=[],
            parent_key=chunk.content_path,
            content_path=chunk.content_path,
            level=None,
            item_type=chunk.item_type,
            extra=dict(chunk.extra),
            exact=False,
            is_table=chunk.is_table,
            boxes=list(unit.boxes) if unit is not None else [],
            limit=chunk.limit,
        )

    def _close_prefix(self, chunk: _Open) -> list[Chunk]:
        """Headings too long to share a chunk: a chunk of their own."""
        alone = _with_blocks(chunk, [("\n\n", list(chunk.prefix))])
        alone.prefix, alone.item_type, alone.extra = [], "heading", {}
        return self._close(alone)

    def _close(self, chunk: _Open) -> list[Chunk]:
        text = chunk.render()
        if not chunk.blocks or not has_content(text):
            return []
        start = end = None
        if chunk.spans:
            start, end = chunk.spans[0][0], chunk.spans[-1][1]
            if chunk.exact and chunk.page.markdown[start:end] != text:
                chunk.exact = False
        return [
            Chunk(
                page=chunk.page,
                first_index=chunk.first_index,
                part=chunk.part,
                text=text,
                item_type=chunk.item_type or "text",
                header_path=_path_string(chunk.content_path),
                level=chunk.level,
                boxes=chunk.boxes,
                extra=chunk.extra,
                start=start,
                end=end,
                parent_key=chunk.parent_key,
                section_keys=chunk.opened,
            )
        ]

    def _trailing(
        self,
        pending: list[_Pending],
        opened: list[tuple[str, ...]],
        parent: tuple[str, ...],
        content_path: tuple[str, ...],
    ) -> list[Chunk]:
        """Headings (or captions) that end a document: a chunk of their own, the one place a
        heading stands alone (dropping it would lose text)."""
        first = pending[0]
        chunk = _Open(
            page=first.page,
            first_index=first.unit.index,
            part=0,
            prefix=[],
            opened=list(opened),
            parent_key=parent,
            content_path=content_path,
            level=first.unit.level if first.unit.kind == "heading" else None,
            item_type="heading" if first.unit.kind == "heading" else "text",
            blocks=[("", [p.unit.text]) for p in pending],
            boxes=[b for p in pending if p.page is first.page for b in p.unit.boxes],
            spans=[p.span for p in pending if p.page is first.page and p.span is not None],
        )
        return self._close(chunk)

    @staticmethod
    def _attach_links(page: ChunkPage, chunks: list[Chunk]) -> None:
        for link in page.links:
            target = _link_target(link, chunks)
            if target is not None:
                entry = {"text": link.text, "url": link.url}
                if entry not in target.links:
                    target.links.append(entry)


def _with_blocks(chunk: _Open, blocks: list[tuple[str, list[str]]]) -> _Open:
    clone = _Open(**{**chunk.__dict__, "blocks": list(blocks)})
    return clone


def _atoms(unit: Unit) -> tuple[list[str], list[str], str]:
    """How an item splits: (lines repeated at the head of every piece, pieces, separator).
    A piece still too long is split again at sentences, then between words."""
    text = unit.text
    if unit.kind == "table":
        lines = [line for line in text.split("\n") if line.strip()]
        if len(lines) > 2 and re.fullmatch(r"\|?\s*:?-{2,}.*", lines[1].strip()):
            return lines[:2], lines[2:], "\n"
        return [], lines, "\n"
    if unit.kind == "list":
        entries: list[str] = []
        for line in text.split("\n"):
            if (
                entries
                and not _LIST_ENTRY.match(line.strip())
                and not line.strip().startswith("- ")
            ):
                entries[-1] += "\n" + line
            else:
                entries.append(line)
        return [], entries, "\n"
    if unit.kind == "code":
        return [], text.split("\n"), "\n"
    return [], [s for para in text.split("\n") for s in _sentences(para)], " "


def _sentences(text: str) -> list[str]:
    """Sentences of ``text``; a list marker (``"1."``) stays with what follows it."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if not sentence.strip():
            continue
        if out and _MARKER_ONLY.fullmatch(out[-1]):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def _find(markdown: str, text: str, cursor: int) -> tuple[int, int] | None:
    if not text:
        return None
    start = markdown.find(text, cursor)
    if start < 0:
        start = markdown.find(text)
    return (start, start + len(text)) if start >= 0 else None


def _link_target(link: Link, chunks: list[Chunk]) -> Chunk | None:
    """The chunk a link annotation belongs to: most box overlap, else its anchor text."""
    best, best_area = None, 0.0
    for chunk in chunks:
        area = sum(_overlap(a, b) for a in link.boxes for b in chunk.boxes)
        if area > best_area:
            best, best_area = chunk, area
    if best is not None:
        return best
    anchor = " ".join(link.text.split())
    if anchor:
        for chunk in chunks:
            if anchor in " ".join(chunk.text.split()):
                return chunk
    return None


def _segments(header_path: str) -> tuple[str, ...]:
    return tuple(part for part in header_path.strip("/").split("/") if part)


def _path_string(segments: tuple[str, ...]) -> str:
    return "/" + "".join(f"{s}/" for s in segments)
