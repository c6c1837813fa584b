"""Backends for plain text and markdown files: one page, items without boxes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lamina.engine import markdown as mdr
from lamina.engine.detect import decode_text
from lamina.engine.errors import UnsupportedFileTypeError
from lamina.engine.result import PageResult
from lamina.types import Item, ListItem, PageMetadata, TextItem

_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([^`\s]*)")
_RULE = re.compile(r"^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$")
_LIST = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_INLINE = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: keep alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: keep link text
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"\*\*(.+?)\*\*|__(.+?)__"), r"\1\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),
)


def decode(data: bytes) -> str:
    """The file's text with ``\\n`` line ends; raises if the bytes are not text."""
    text = decode_text(data)
    if text is None:
        raise UnsupportedFileTypeError("The file is not text and not a supported document type.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_plain_text(data: bytes) -> PageResult:
    """A plain text file as one page: each run of lines between blank lines is a paragraph."""
    text = decode(data)
    items: list[Item] = [
        mdr.text_item(para.strip("\n")) for para in _BLANK_LINES.split(text) if para.strip()
    ]
    return _page(text.strip("\n"), items)


def parse_markdown(data: bytes) -> PageResult:
    """A markdown file as one page of headings, lists, code, tables and paragraphs."""
    text = decode(data)
    items = _MarkdownReader(text.split("\n")).read()
    plain = "\n\n".join(_plain(i) for i in items)
    return _page(plain, items)


def strip_inline_markup(text: str) -> str:
    """Plain text of a markdown span: links, images, code spans and emphasis removed."""
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


def _page(text: str, items: list[Item]) -> PageResult:
    return PageResult(
        page_number=1,
        text=text,
        markdown=mdr.page_markdown(items),
        items=items,
        metadata=PageMetadata(page_number=1, confidence=1.0),
    )


def _plain(item: Item) -> str:
    if isinstance(item, ListItem):
        return "\n".join(_plain(e) for e in item.items)
    value = getattr(item, "value", None)
    return value if isinstance(value, str) else item.md


@dataclass
class _Entry:
    """A list entry being collected: its text lines and its nested list, if any."""

    lines: list[str]
    indent: int
    children: list[_Entry] = field(default_factory=list)
    ordered: bool = False


class _MarkdownReader:
    """A line-based reader of the common block syntax (CommonMark's, minus the corner cases)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0
        self.items: list[Item] = []

    def read(self) -> list[Item]:
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if not line.strip():
                self.pos += 1
            elif _FENCE.match(line):
                self._fence()
            elif _ATX.match(line):
                match = _ATX.match(line)
                assert match is not None
                self._heading(match.group(2) or "", len(match.group(1)))
                self.pos += 1
            elif _RULE.match(line):
                self.pos += 1
            elif self._is_table_start():
                self._table()
            elif _LIST.match(line):
                self._list()
            else:
                self._paragraph()
        return self.items

    def _heading(self, text: str, level: int) -> None:
        text = text.strip()
        if text:
            self.items.append(mdr.heading_item(strip_inline_markup(text), level))

    def _fence(self) -> None:
        match = _FENCE.match(self.lines[self.pos])
        assert match is not None
        indent, fence, language = len(match.group(1)), match.group(2), match.group(3)
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        self.pos += 1
        while self.pos < len(self.lines) and not closing.match(self.lines[self.pos]):
            line = self.lines[self.pos]
            body.append(line[indent:] if line[:indent].isspace() else line.lstrip())
            self.pos += 1
        self.pos += 1  # the closing fence (or the end of the file)
        self.items.append(mdr.code_item("\n".join(body), language or None))

    def _is_table_start(self) -> bool:
        if self.pos + 1 >= len(self.lines) or "|" not in self.lines[self.pos]:
            return False
        return bool(_TABLE_SEP.match(self.lines[self.pos + 1])) and "-" in self.lines[self.pos + 1]

    def _table(self) -> None:
        rows = [_split_row(self.lines[self.pos])]
        self.pos += 2
        while self.pos < len(self.lines) and "|" in self.lines[self.pos]:
            if not self.lines[self.pos].strip():
                break
            rows.append(_split_row(self.lines[self.pos]))
            self.pos += 1
        self.items.append(mdr.table_item(rows))

    def _paragraph(self) -> None:
        lines: list[str] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if not line.strip() or (lines and self._interrupts(line)):
                break
            if lines and _SETEXT.match(line):
                level = 1 if line.strip().startswith("=") else 2
                self.pos += 1
                self._heading(" ".join(s.strip() for s in lines), level)
                return
            lines.append(line.strip())
            self.pos += 1
        self.items.append(mdr.text_item(strip_inline_markup("\n".join(lines))))
        self.items[-1].md = "\n".join(lines)

    def _interrupts(self, line: str) -> bool:
        """Whether ``line`` ends a paragraph by starting another block."""
        return bool(_ATX.match(line) or _FENCE.match(line) or _LIST.match(line)) or (
            self._is_table_start_at(line)
        )

    def _is_table_start_at(self, line: str) -> bool:
        nxt = self.pos + 1
        return "|" in line and nxt < len(self.lines) and bool(_TABLE_SEP.match(self.lines[nxt]))

    def _list(self) -> None:
        roots: list[_Entry] = []
        stack: list[_Entry] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            match = _LIST.match(line)
            if match:
                indent = len(match.group(1).expandtabs(4))
                entry = _Entry([match.group(3).strip()], indent)
                entry.ordered = match.group(2)[0].isdigit()
                while stack and stack[-1].indent >= indent:
                    stack.pop()
                (stack[-1].children if stack else roots).append(entry)
                stack.append(entry)
            elif line.strip() and stack and not (_ATX.match(line) or _FENCE.match(line)):
                stack[-1].lines.append(line.strip())  # lazy continuation of the last entry
            elif not line.strip() and self._list_continues():
                pass
            else:
                break
            self.pos += 1
        self.items.append(_build_list(roots))

    def _list_continues(self) -> bool:
        """After a blank line, the list goes on if the next line is an entry or indented."""
        nxt = self.pos + 1
        if nxt >= len(self.lines):
            return False
        following = self.lines[nxt]
        return bool(_LIST.match(following)) or following.startswith(("  ", "\t"))


def _build_list(entries: list[_Entry]) -> ListItem:
    out: list[TextItem | ListItem] = []
    for entry in entries:
        text = "\n".join(entry.lines)
        item = mdr.text_item(strip_inline_markup(text))
        item.md = text
        out.append(item)
        if entry.children:
            out.append(_build_list(entry.children))
    return mdr.list_item(out, ordered=bool(entries) and entries[0].ordered)


def _split_row(line: str) -> list[str | float | None]:
    """Cells of a pipe-table row; ``\\|`` is a literal bar, outer bars are optional."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [strip_inline_markup(c.strip().replace("\\|", "|")) for c in cells]
