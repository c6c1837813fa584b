"""DOCX backend: the body of a Word document, in order, as headings, lists, code, tables, text.

python-docx opens the package and gives the parts (styles, numbering, sections, relationships);
the body is read from its XML directly, because the structure that matters (paragraph styles,
``numPr`` list levels, ``gridSpan``/``vMerge`` merges, text boxes) is in the XML and the reading
order is simply the body order.

A DOCX has no pages until Word lays it out, and the explicit page breaks in it are a poor guide
to the pages people see, so the whole document is **one page**. Its size is the first section's
page size in points; headers and footers of all sections are header/footer items on that page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lamina.engine import markdown as mdr
from lamina.engine import office
from lamina.engine.pages import select_pages
from lamina.engine.result import PageResult
from lamina.types import Item, ListItem, ParseConfiguration, TextItem

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NS = {"w": _W, "m": _M, "mc": _MC}

_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
_CODE_STYLES = frozenset(
    {
        "code",
        "source code",
        "html code",
        "html preformatted",
        "macro text",
        "plain text",
        "preformatted text",
        "code block",
        "verbatim",
    }
)
_MONO_FONTS = ("courier", "consolas", "mono", "menlo", "monaco", "lucida console", "code")
_CODE_CHARS = re.compile(r"[{}()\[\];=<>*#/\\$]|^\s{2,}\S|^\t")
_UNORDERED_FORMATS = frozenset({"bullet", "none", ""})


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def _val(el: Any, path: str) -> str | None:
    """The ``w:val`` of the first element at ``path`` below ``el`` (None if absent)."""
    found = el.find(path, _NS) if el is not None else None
    return None if found is None else found.get(_w("val"))


def _on(el: Any) -> bool:
    """Whether a toggle property (``<w:b/>``, ``<w:b w:val="0"/>``) is on."""
    return el is not None and el.get(_w("val"), "true").lower() not in ("0", "false", "off")


def parse(data: bytes, config: ParseConfiguration) -> tuple[int, list[PageResult]]:
    """Parse a DOCX into its one page (an empty list when page selection excludes it)."""
    office.check_package(data, "DOCX", "word/document.xml")
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise office.invalid("DOCX", exc) from exc
    if not select_pages(1, config.page_ranges):
        return 1, []
    try:
        items = _DocxReader(document).read()
    except Exception as exc:  # a bug or an odd file must not lose the job: a failed page
        return 1, [office.failed_page(1, "Page", exc)]
    section = document.sections[0] if document.sections else None
    width = section.page_width.pt if section is not None and section.page_width else 0.0
    height = section.page_height.pt if section is not None and section.page_height else 0.0
    return 1, [office.build_page(1, items, width=round(width, 2), height=round(height, 2))]


@dataclass(slots=True)
class _Style:
    """What the backend needs of a style, resolved along ``basedOn``."""

    name: str = ""
    based_on: str | None = None
    outline: int | None = None
    num_id: str | None = None
    ilvl: int | None = None
    font: str | None = None


@dataclass(slots=True)
class _Level:
    fmt: str
    text: str
    start: int


@dataclass
class _Numbering:
    """numbering.xml: list formats per (numId, level) and running counters for labels."""

    abstract: dict[str, dict[int, _Level]] = field(default_factory=dict)
    nums: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)
    counters: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Any) -> _Numbering:
        numbering = cls()
        if root is None:
            return numbering
        for absn in root.findall("w:abstractNum", _NS):
            levels: dict[int, _Level] = {}
            for lvl in absn.findall("w:lvl", _NS):
                start = _val(lvl, "w:start")
                levels[int(lvl.get(_w("ilvl"), "0"))] = _Level(
                    fmt=_val(lvl, "w:numFmt") or "decimal",
                    text=_val(lvl, "w:lvlText") or "",
                    start=int(start) if start and start.lstrip("-").isdigit() else 1,
                )
            numbering.abstract[absn.get(_w("abstractNumId"), "")] = levels
        for num in root.findall("w:num", _NS):
            overrides: dict[int, int] = {}
            for ovr in num.findall("w:lvlOverride", _NS):
                start = _val(ovr, "w:startOverride")
                if start and start.isdigit():
                    overrides[int(ovr.get(_w("ilvl"), "0"))] = int(start)
            numbering.nums[num.get(_w("numId"), "")] = (
                _val(num, "w:abstractNumId") or "",
                overrides,
            )
        return numbering

    def level(self, num_id: str, ilvl: int) -> _Level | None:
        abstract_id, _ = self.nums.get(num_id, ("", {}))
        return self.abstract.get(abstract_id, {}).get(ilvl)

    def ordered(self, num_id: str, ilvl: int) -> bool:
        level = self.level(num_id, ilvl)
        return level is not None and level.fmt not in _UNORDERED_FORMATS

    def advance(self, num_id: str, ilvl: int) -> str:
        """Count one more paragraph at (num_id, ilvl) and return its label, e.g. "2.1"."""
        _, overrides = self.nums.get(num_id, ("", {}))
        counts = self.counters.setdefault(num_id, [0] * 9)
        ilvl = min(max(ilvl, 0), 8)
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = 0
        if counts[ilvl] == 0:
            level = self.level(num_id, ilvl)
            counts[ilvl] = overrides.get(ilvl, level.start if level else 1)
        else:
            counts[ilvl] += 1
        level = self.level(num_id, ilvl)
        if level is None or level.fmt in _UNORDERED_FORMATS:
            return ""

        def number(match: re.Match[str]) -> str:
            k = int(match.group(1)) - 1
            lvl = self.level(num_id, k)
            value = counts[k] if 0 <= k < 9 and counts[k] else (lvl.start if lvl else 1)
            return _format_number(value, lvl.fmt if lvl else "decimal")

        return re.sub(r"%([1-9])", number, level.text).strip()


def _format_number(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        n = value
        while n > 0:
            n, rem = divmod(n - 1, 26)
            letters = chr(ord("a") + rem) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(value)
        return roman if fmt == "upperRoman" else roman.lower()
    return str(value)


def _roman(value: int) -> str:
    out = ""
    for number, letters in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while value >= number:
            out += letters
            value -= number
    return out or str(value)


@dataclass(slots=True)
class _Span:
    """A run of text with one formatting."""

    text: str
    bold: bool = False
    italic: bool = False
    url: str | None = None


@dataclass
class _ListEntry:
    level: int
    ordered: bool
    item: TextItem


class _DocxReader:
    """Walks the body of one document and collects its items."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self.part = document.part
        self.styles = self._load_styles()
        self.numbering = _Numbering.load(self._numbering_root())
        self.items: list[Item] = []
        self.pending_list: list[_ListEntry] = []
        self.list_num_id: str | None = None
        self.pending_code: list[str] = []
        self.code_blanks = 0
        body = document.element.body
        self.heading_shift = 1 if self._uses_title_style(body) else 0

    # --- setup -------------------------------------------------------------------------------

    def _load_styles(self) -> dict[str, _Style]:
        styles: dict[str, _Style] = {}
        self.default_para_style: str | None = None
        self.default_font: str | None = None
        try:
            root = self.document.styles.element
        except Exception:
            return styles
        for st in root.findall("w:style", _NS):
            sid = st.get(_w("styleId"), "")
            ppr = st.find("w:pPr", _NS)
            ilvl = _val(ppr, "w:numPr/w:ilvl")
            outline = _val(ppr, "w:outlineLvl")
            fonts = st.find("w:rPr/w:rFonts", _NS)
            styles[sid] = _Style(
                name=(_val(st, "w:name") or sid),
                based_on=_val(st, "w:basedOn"),
                outline=int(outline) if outline and outline.isdigit() else None,
                num_id=_val(ppr, "w:numPr/w:numId"),
                ilvl=int(ilvl) if ilvl and ilvl.isdigit() else None,
                font=None if fonts is None else (fonts.get(_w("ascii")) or fonts.get(_w("hAnsi"))),
            )
            if st.get(_w("type")) == "paragraph" and st.get(_w("default")) in ("1", "true"):
                self.default_para_style = sid
        fonts = root.find("w:docDefaults/w:rPrDefault/w:rPr/w:rFonts", _NS)
        self.default_font = None if fonts is None else fonts.get(_w("ascii"))
        return styles

    def _numbering_root(self) -> Any:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        try:
            return self.part.part_related_by(RT.NUMBERING).element  # type: ignore[attr-defined]
        except (KeyError, AttributeError):
            return None

    def _uses_title_style(self, body: Any) -> bool:
        for style_id in body.iterfind(".//w:pPr/w:pStyle", _NS):
            name = self._style_attr(style_id.get(_w("val")), "name")
            if isinstance(name, str) and name.lower() == "title":
                return True
        return False

    def _style_attr(self, style_id: str | None, attr: str) -> Any:
        """An attribute of a style, inherited along ``basedOn`` (name is not inherited)."""
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.styles:
            seen.add(style_id)
            style = self.styles[style_id]
            value = getattr(style, attr)
            if value is not None or attr == "name":
                return value
            style_id = style.based_on
        return None

    # --- walking -----------------------------------------------------------------------------

    def read(self) -> list[Item]:
        self.items.extend(self._furniture("header"))
        self._blocks(self.document.element.body)
        self._flush()
        self.items.extend(self._furniture("footer"))
        return self.items

    def _blocks(self, container: Any) -> None:
        for child in container:
            tag = child.tag
            if tag == _w("p"):
                self._paragraph(child)
                self._text_boxes(child)
            elif tag == _w("tbl"):
                self._flush()
                self.items.append(mdr.table_item(self._table_rows(child)))
            elif tag in (_w("sdt"), _w("customXml")):
                content = child.find("w:sdtContent", _NS) if tag == _w("sdt") else child
                if content is not None:
                    self._blocks(content)

    def _text_boxes(self, paragraph: Any) -> None:
        """Text box content anchored in ``paragraph``, after it (the fallback copy skipped)."""
        for box in paragraph.iterfind(".//w:txbxContent", _NS):
            if any(a.tag == f"{{{_MC}}}Fallback" for a in box.iterancestors()):
                continue
            self._blocks(box)

    def _paragraph(self, p: Any) -> None:
        ppr = p.find("w:pPr", _NS)
        style_id = _val(ppr, "w:pStyle") or self.default_para_style
        style_name = str(self._style_attr(style_id, "name") or "")
        spans = list(self._spans(p))
        text = "".join(s.text for s in spans)
        if not text.strip():
            if self.pending_code:
                self.code_blanks += 1
            return
        num_id = _val(ppr, "w:numPr/w:numId") or self._style_attr(style_id, "num_id")
        ilvl_raw = _val(ppr, "w:numPr/w:ilvl")
        ilvl = int(ilvl_raw) if ilvl_raw and ilvl_raw.isdigit() else None
        if ilvl is None:
            ilvl = self._style_attr(style_id, "ilvl") or 0
        numbered = bool(num_id) and num_id != "0" and num_id in self.numbering.nums
        level = self._heading_level(ppr, style_id, style_name)
        if level is not None:
            self._flush()
            value = " ".join(text.split())
            if numbered:
                assert num_id is not None
                label = self.numbering.advance(num_id, ilvl)
                label = label.rstrip(".")
                value = f"{label} {value}" if label else value
            self.items.append(mdr.heading_item(value, level))
            return
        if self._is_code(p, style_id, style_name, spans, text):
            self._flush_list()
            if self.pending_code and self.code_blanks:
                self.pending_code.extend([""] * self.code_blanks)
            self.code_blanks = 0
            self.pending_code.append(text.rstrip())
            return
        self._flush_code()
        item = mdr.text_item(text.strip())
        item.md = _spans_md(spans).strip() or item.value
        if numbered:
            assert num_id is not None
            self.numbering.advance(num_id, ilvl)
            if self.pending_list and ilvl == 0 and num_id != self.list_num_id:
                self._flush_list()
            if not self.pending_list:
                self.list_num_id = num_id
            ordered = self.numbering.ordered(num_id, ilvl)
            self.pending_list.append(_ListEntry(ilvl, ordered, item))
            return
        self._flush_list()
        self.items.append(item)

    def _heading_level(self, ppr: Any, style_id: str | None, style_name: str) -> int | None:
        name = style_name.strip().lower()
        if name == "title":
            return 1
        match = _HEADING_NAME.match(name)
        if match:
            return min(int(match.group(1)) + self.heading_shift, 6)
        outline = _val(ppr, "w:outlineLvl")
        level = int(outline) if outline and outline.isdigit() else None
        if level is None:
            level = self._style_attr(style_id, "outline")
        if level is not None and level < 9:
            return min(level + 1 + self.heading_shift, 6)
        return None

    def _is_code(
        self, p: Any, style_id: str | None, style_name: str, spans: list[_Span], text: str
    ) -> bool:
        if style_name.strip().lower() in _CODE_STYLES:
            return True
        fonts = [self._run_font(r, style_id) for r in p.iterfind("w:r", _NS) if _run_text(r)]
        if not fonts or not all(_is_mono(f) for f in fonts):
            return False
        return bool(self.pending_code) or bool(_CODE_CHARS.search(text))

    def _run_font(self, run: Any, para_style: str | None) -> str | None:
        fonts = run.find("w:rPr/w:rFonts", _NS)
        if fonts is not None and (fonts.get(_w("ascii")) or fonts.get(_w("hAnsi"))):
            return str(fonts.get(_w("ascii")) or fonts.get(_w("hAnsi")))
        char_style = _val(run, "w:rPr/w:rStyle")
        font = self._style_attr(char_style, "font") or self._style_attr(para_style, "font")
        return font or self.default_font

    def _spans(self, p: Any) -> Iterator[_Span]:
        """The paragraph's text in order, with bold/italic/link, deleted text and fields'
        instructions left out, math as its plain text."""
        for child in p:
            tag = child.tag
            if tag == _w("r"):
                yield from _run_spans(child, None)
            elif tag == _w("hyperlink"):
                url = None
                rid = child.get(f"{{{_R}}}id")
                if rid and rid in self.part.rels:
                    rel = self.part.rels[rid]
                    url = rel.target_ref if rel.is_external else None
                for run in child.iterfind(".//w:r", _NS):
                    yield from _run_spans(run, url)
            elif tag in (_w("ins"), _w("smartTag"), _w("fldSimple"), _w("customXml")):
                for run in child.iterfind(".//w:r", _NS):
                    yield from _run_spans(run, None)
            elif tag == _w("sdt"):
                for run in child.iterfind("w:sdtContent//w:r", _NS):
                    yield from _run_spans(run, None)
            elif tag in (f"{{{_M}}}oMath", f"{{{_M}}}oMathPara"):
                yield _Span("".join(t.text or "" for t in child.iterfind(".//m:t", _NS)))

    # --- tables ------------------------------------------------------------------------------

    def _table_rows(self, tbl: Any) -> list[list[mdr.Cell]]:
        """The table as a grid: spanned cells repeat their text, so no header is lost."""
        rows: list[list[mdr.Cell]] = []
        for tr in tbl.iterfind("w:tr", _NS):
            row: list[mdr.Cell] = []
            before = _val(tr, "w:trPr/w:gridBefore")
            row.extend([""] * (int(before) if before and before.isdigit() else 0))
            for tc in tr.iterfind("w:tc", _NS):
                tcpr = tc.find("w:tcPr", _NS)
                span_raw = _val(tcpr, "w:gridSpan")
                span = int(span_raw) if span_raw and span_raw.isdigit() else 1
                vmerge = tcpr.find("w:vMerge", _NS) if tcpr is not None else None
                col = len(row)
                if vmerge is not None and vmerge.get(_w("val"), "continue") == "continue":
                    above = rows[-1] if rows else []
                    text: mdr.Cell = above[col] if col < len(above) else ""
                else:
                    text = self._cell_text(tc)
                row.extend([text] * max(span, 1))
            rows.append(row)
        width = max((len(r) for r in rows), default=0)
        return [r + [""] * (width - len(r)) for r in rows]

    def _cell_text(self, tc: Any) -> str:
        lines: list[str] = []
        for p in tc.iter(_w("p")):
            text = "".join(s.text for s in self._spans(p)).strip()
            if text:
                lines.append(text)
        return "\n".join(lines)

    # --- furniture ---------------------------------------------------------------------------

    def _furniture(self, kind: str) -> list[Item]:
        """Distinct header (or footer) texts of every section, as one furniture item."""
        texts: list[str] = []
        for section in self.document.sections:
            parts = (
                (section.header, section.first_page_header, section.even_page_header)
                if kind == "header"
                else (section.footer, section.first_page_footer, section.even_page_footer)
            )
            for part in parts:
                try:
                    if part.is_linked_to_previous:
                        continue
                    element = part._element  # the hdr/ftr root
                except Exception:
                    continue
                for p in element.iter(_w("p")):
                    text = "".join(s.text for s in self._spans(p)).strip()
                    if text and text not in texts:
                        texts.append(text)
        item = office.furniture(kind, texts)
        return [item] if item is not None else []

    # --- pending blocks ----------------------------------------------------------------------

    def _flush(self) -> None:
        self._flush_list()
        self._flush_code()

    def _flush_code(self) -> None:
        if self.pending_code:
            self.items.append(mdr.code_item("\n".join(self.pending_code)))
        self.pending_code = []
        self.code_blanks = 0

    def _flush_list(self) -> None:
        if self.pending_list:
            self.items.append(_build_list(self.pending_list))
        self.pending_list = []
        self.list_num_id = None


def _build_list(entries: list[_ListEntry]) -> ListItem:
    """Nested lists from entries with levels: deeper entries nest under the previous one."""
    base = min(e.level for e in entries)
    out: list[TextItem | ListItem] = []
    i = 0
    while i < len(entries):
        entry = entries[i]
        if entry.level <= base:
            out.append(entry.item)
            i += 1
            continue
        j = i
        while j < len(entries) and entries[j].level > base:
            j += 1
        out.append(_build_list(entries[i:j]))
        i = j
    top = [e for e in entries if e.level == base]
    return mdr.list_item(out, ordered=bool(top) and top[0].ordered)


def _run_text(run: Any) -> str:
    return "".join(t.text or "" for t in run.iterfind("w:t", _NS))


def _run_spans(run: Any, url: str | None) -> Iterator[_Span]:
    rpr = run.find("w:rPr", _NS)
    bold = _on(rpr.find("w:b", _NS)) if rpr is not None else False
    italic = _on(rpr.find("w:i", _NS)) if rpr is not None else False
    parts: list[str] = []
    for el in run:
        tag = el.tag
        if tag == _w("t"):
            parts.append(el.text or "")
        elif tag == _w("tab"):
            parts.append("\t")
        elif tag == _w("cr") or (
            tag == _w("br") and el.get(_w("type"), "textWrapping") == "textWrapping"
        ):
            parts.append("\n")
        elif tag == _w("noBreakHyphen"):
            parts.append("-")
    if parts:
        yield _Span("".join(parts), bold, italic, url)


def _is_mono(font: str | None) -> bool:
    return font is not None and any(key in font.lower() for key in _MONO_FONTS)


def _spans_md(spans: list[_Span]) -> str:
    """Markdown of a paragraph's spans: ``**bold**``, ``*italic*`` and ``[text](url)``."""
    merged: list[_Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if last and (last.bold, last.italic, last.url) == (span.bold, span.italic, span.url):
            last.text += span.text
        else:
            merged.append(_Span(span.text, span.bold, span.italic, span.url))
    out: list[str] = []
    for span in merged:
        core = span.text.strip()
        if not core:
            out.append(span.text)
            continue
        lead = span.text[: len(span.text) - len(span.text.lstrip())]
        trail = span.text[len(span.text.rstrip()) :]
        if span.bold and span.italic:
            core = f"***{core}***"
        elif span.bold:
            core = f"**{core}**"
        elif span.italic:
            core = f"*{core}*"
        if span.url:
            core = f"[{core}]({span.url})"
        out.append(lead + core + trail)
    return "".join(out)
