"""HTML backend: one page of headings, paragraphs, lists, tables, code, images and links.

BeautifulSoup (with lxml) repairs the markup; the reader then walks the tree once, in document
order. Block elements (``p``, ``div``, headings, lists, ...) end the paragraph being collected;
inline elements add to it, rendered as markdown (``**bold**``, ``*italic*``, `` `code` ``,
``[text](url)``) in ``md`` and as plain text in ``value``. A paragraph that is nothing but one
link becomes a link item; images become image items (alt text as caption, ``src`` as url).

``script``, ``style``, ``template`` and similar never hold content; elements hidden with the
``hidden`` attribute or ``display:none`` are skipped unless
``input_options.html.make_all_elements_visible``; ``nav`` elements are skipped only with
``input_options.html.remove_navigation_elements`` (a page's table of contents is often ``nav``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from lamina.engine import markdown as mdr
from lamina.engine import office
from lamina.engine.errors import InvalidDocumentError
from lamina.engine.pages import select_pages
from lamina.engine.result import PageResult
from lamina.types import ImageItem, Item, LinkItem, ListItem, ParseConfiguration, TextItem

_NEVER_CONTENT = frozenset(
    {"script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object",
     "embed", "button", "select", "input", "textarea", "meta", "link", "base"}
)  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "aside", "header", "footer", "nav", "body",
     "html", "blockquote", "figure", "figcaption", "address", "details", "summary", "dl", "dt",
     "dd", "form", "fieldset", "legend", "center", "hr", "caption", "li", "tr", "td", "th",
     "thead", "tbody", "tfoot", "ul", "ol", "table", "pre", "img", *_HEADINGS}
)  # fmt: skip
_EMPHASIS = {"strong": "**", "b": "**", "em": "*", "i": "*", "s": "~~", "del": "~~", "strike": "~~"}
_CODE_INLINE = frozenset({"code", "kbd", "samp", "tt", "var"})
_LANGUAGE = re.compile(r"(?:language|lang|highlight-source)-([\w+#.-]+)", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def parse(data: bytes, config: ParseConfiguration) -> tuple[int, list[PageResult]]:
    """Parse an HTML document into one page (none when page selection excludes it)."""
    try:
        soup = BeautifulSoup(data, "lxml")
    except Exception as exc:  # lxml is very forgiving; this is for truly broken input
        raise InvalidDocumentError(f"Not a valid HTML file: it could not be read ({exc}).") from exc
    if not select_pages(1, config.page_ranges):
        return 1, []
    reader = _HtmlReader(
        keep_hidden=bool(office.input_option(config, "html", "make_all_elements_visible")),
        skip_nav=bool(office.input_option(config, "html", "remove_navigation_elements")),
    )
    try:
        items = reader.read(soup)
    except Exception as exc:  # a bug or an odd file must not lose the job: a failed page
        return 1, [office.failed_page(1, "Page", exc)]
    return 1, [office.build_page(1, items)]


@dataclass(slots=True)
class _Piece:
    """A piece of inline content: its markdown, its plain text, and the link it is, if any."""

    md: str
    text: str
    link: tuple[str, str] | None = None  # (text, url) when the piece is a whole link


class _HtmlReader:
    """Collects the items of one HTML document."""

    def __init__(self, *, keep_hidden: bool = False, skip_nav: bool = False) -> None:
        self.keep_hidden = keep_hidden
        self.skip_nav = skip_nav
        self.items: list[Item] = []
        self.inline: list[_Piece] = []
        self.images: list[ImageItem] = []

    def read(self, soup: BeautifulSoup) -> list[Item]:
        root = soup.body or soup
        self._blocks(root)
        self._flush()
        has_h1 = any(getattr(i, "level", None) == 1 for i in self.items if i.type == "heading")
        title = soup.title.get_text(" ", strip=True) if soup.title else ""
        if title and not has_h1:
            self.items.insert(0, mdr.heading_item(" ".join(title.split()), 1))
        return self.items

    # --- blocks ------------------------------------------------------------------------------

    def _skip(self, tag: Tag) -> bool:
        if tag.name in _NEVER_CONTENT:
            return True
        if self.skip_nav and (tag.name == "nav" or tag.get("role") == "navigation"):
            return True
        if not self.keep_hidden:
            style = tag.get("style")
            if tag.has_attr("hidden") or (isinstance(style, str) and _HIDDEN_STYLE.search(style)):
                return True
        return False

    def _blocks(self, node: Tag) -> None:
        for child in node.children:
            self._node(child)

    def _node(self, node: object) -> None:
        if isinstance(node, Comment) or not isinstance(node, NavigableString | Tag):
            return
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not a CDATA, doctype or processing instruction
                text = _SPACES.sub(" ", str(node).replace("\n", " "))
                self.inline.append(_Piece(text, text))
            return
        if self._skip(node):
            return
        name = node.name
        if name in _HEADINGS:
            self._flush()
            text = _collapse(node.get_text(" "))
            if text:
                self.items.append(mdr.heading_item(text, _HEADINGS[name]))
            self._images_in(node)
            self._flush()
        elif name in ("ul", "ol"):
            self._flush()
            entries = self._list(node)
            if entries:
                self.items.append(entries)
        elif name == "table":
            self._flush()
            self._table(node)
        elif name == "pre":
            self._flush()
            self._code(node)
        elif name == "img":
            self._flush()
            self._image(node)
            self._flush()
        elif name == "br":
            self.inline.append(_Piece("\n", "\n"))
        elif name in _BLOCKS or self._has_block(node):
            self._flush()
            self._blocks(node)
            self._flush()
        else:
            self.inline.append(self._inline(node))

    def _has_block(self, tag: Tag) -> bool:
        return tag.find(lambda t: t.name in _BLOCKS and t.name != "img") is not None

    def _flush(self) -> None:
        """End the paragraph being collected: a text item, or a link item if it is one link."""
        pieces, self.inline = self.inline, []
        md = _tidy("".join(p.md for p in pieces))
        text = _tidy("".join(p.text for p in pieces))
        if text:
            links = [p.link for p in pieces if p.link is not None]
            others = "".join(p.text for p in pieces if p.link is None).strip()
            if len(links) == 1 and not others:
                link_text, url = links[0]
                self.items.append(LinkItem(text=link_text, url=url, md=md))
            else:
                item = mdr.text_item(text)
                item.md = md or text
                self.items.append(item)
        self.items.extend(self.images)
        self.images = []

    # --- inline ------------------------------------------------------------------------------

    def _inline(self, node: Tag) -> _Piece:
        """Markdown and text of an inline element and everything in it."""
        parts: list[_Piece] = []
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    text = _SPACES.sub(" ", str(child).replace("\n", " "))
                    parts.append(_Piece(text, text))
            elif isinstance(child, Tag) and not self._skip(child):
                if child.name == "br":
                    parts.append(_Piece("\n", "\n"))
                elif child.name == "img":
                    self._image(child)
                else:
                    parts.append(self._inline(child))
        md = "".join(p.md for p in parts)
        text = "".join(p.text for p in parts)
        name = node.name
        if not text.strip():
            return _Piece(md if "\n" in md else text, text)
        if name in _EMPHASIS:
            return _Piece(_wrap(md, _EMPHASIS[name]), text)
        if name in _CODE_INLINE:
            return _Piece(_wrap(text, "`"), text)
        if name == "a":
            href = node.get("href")
            if isinstance(href, str) and href.strip() and not href.startswith("javascript:"):
                url = href.strip()
                label = _collapse(md)
                lead, trail = _edges(text)
                return _Piece(f"{lead}[{label}]({url}){trail}", text, (_collapse(text), url))
        return _Piece(md, text)

    # --- lists, tables, code, images ---------------------------------------------------------

    def _list(self, node: Tag) -> ListItem | None:
        entries: list[TextItem | ListItem] = []
        for li in node.find_all("li", recursive=False) or node.find_all("li"):
            if li.find_parent(["ul", "ol"]) is not node or self._skip(li):
                continue
            sub = _HtmlReader(keep_hidden=self.keep_hidden, skip_nav=self.skip_nav)
            nested: list[ListItem] = []
            for child in li.children:
                if isinstance(child, Tag) and child.name in ("ul", "ol"):
                    sub._flush()
                    inner = self._list(child)
                    if inner is not None:
                        nested.append(inner)
                else:
                    sub._node(child)
            sub._flush()
            texts = [i for i in sub.items if not isinstance(i, ListItem)]
            md = "\n".join(i.md for i in texts if i.md).strip()
            value = "\n".join(office.plain_text(i) for i in texts).strip()
            if value or md:
                entry = mdr.text_item(value or md)
                entry.md = md or value
                entries.append(entry)
            entries.extend(nested)
            self.images.extend(i for i in sub.items if isinstance(i, ImageItem))
        if not entries:
            return None
        return mdr.list_item(entries, ordered=node.name == "ol")

    def _table(self, table: Tag) -> None:
        caption = table.find("caption")
        if caption is not None and caption.find_parent("table") is table:
            text = _collapse(caption.get_text(" "))
            if text:
                self.items.append(mdr.text_item(text))
        rows = _table_rows(table, self._cell_text)
        if rows:
            self.items.append(mdr.table_item(rows))

    def _cell_text(self, cell: Tag) -> str:
        """A cell's plain text on one line: paragraphs, lists and image alt texts joined."""
        sub = _HtmlReader(keep_hidden=self.keep_hidden, skip_nav=self.skip_nav)
        sub._blocks(cell)
        sub._flush()
        return " ".join(" ".join(office.plain_text(i).split()) for i in sub.items).strip()

    def _code(self, pre: Tag) -> None:
        code = pre.find("code")
        language = None
        for tag in (pre, code):
            classes = tag.get("class") if isinstance(tag, Tag) else None
            for cls in classes or []:
                match = _LANGUAGE.match(cls)
                if match:
                    language = match.group(1).lower()
                    break
            if language:
                break
        text = pre.get_text().strip("\n")
        if text.strip():
            self.items.append(mdr.code_item(text, language))

    def _image(self, img: Tag) -> None:
        if self._skip(img):
            return
        alt = _collapse(str(img.get("alt") or ""))
        src = str(img.get("src") or "").strip()
        if src.startswith("data:"):
            src = ""  # inline image bytes: not a URL worth keeping in text
        if not alt and not src:
            return
        self.images.append(ImageItem(caption=alt, url=src, md=f"![{alt}]({src})"))

    def _images_in(self, node: Tag) -> None:
        for img in node.find_all("img"):
            self._image(img)


def _table_rows(table: Tag, cell_text: Callable[[Tag], str]) -> list[list[mdr.Cell]]:
    """The table's cells as a grid: a cell spanning rows or columns repeats in each."""
    rows: list[list[mdr.Cell]] = []
    carried: dict[int, tuple[int, str]] = {}  # column → (rows still to fill, text)
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        row: list[mdr.Cell] = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            _fill_carried(row, carried)
            text = cell_text(cell)
            rowspan = _span(cell.get("rowspan"))
            for _ in range(_span(cell.get("colspan"))):
                if rowspan > 1:
                    carried[len(row)] = (rowspan - 1, text)
                row.append(text)
        _fill_carried(row, carried)
        if row:
            rows.append(row)
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def _fill_carried(row: list[mdr.Cell], carried: dict[int, tuple[int, str]]) -> None:
    """Append to ``row`` the cells that rows above span into, at its current end."""
    while len(row) in carried:
        col = len(row)
        left, text = carried[col]
        row.append(text)
        if left <= 1:
            del carried[col]
        else:
            carried[col] = (left - 1, text)


def _span(value: object) -> int:
    try:
        return min(max(int(str(value)), 1), 1000)
    except (TypeError, ValueError):
        return 1


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _tidy(text: str) -> str:
    """Spaces collapsed, each line stripped, blank lines dropped."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _edges(text: str) -> tuple[str, str]:
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return lead, trail


def _wrap(md: str, mark: str) -> str:
    """``md`` between ``mark``s, the surrounding spaces kept outside."""
    lead, trail = _edges(md)
    core = md.strip()
    if not core or (core.startswith(mark) and core.endswith(mark) and len(core) > 2 * len(mark)):
        return md  # empty, or already marked (<b><strong>x</strong></b>)
    return f"{lead}{mark}{core}{mark}{trail}"
