"""Spreadsheet backends: XLSX/XLSM workbooks (one page per sheet) and CSV/TSV files (one table).

A sheet becomes a page with the sheet name as a level-1 heading, then its blocks of cells in
reading order (top to bottom, then left to right). A block is a group of filled cells that
touch, diagonals included, and whose bounding boxes overlap; one block is one table, the first
row its header. A block of a single cell (a title above a table, a note below it) is a text
item rather than a one-cell table. Merged cells repeat their value over the merged area, so
header cells spanning columns are never lost.

Values: numbers stay numbers (floats in ``rows``), booleans are ``TRUE``/``FALSE`` as Excel shows
them, dates and times are ISO 8601 (a date alone when the time is midnight). Formulas give the
value Excel last saved (``data_only``); a workbook never recalculated after editing has none.

Pages are numbered by sheet position among the workbook's worksheets, hidden ones included, so
page numbers match the sheet tabs; hidden sheets are skipped unless
``input_options.spreadsheet.include_hidden_sheets``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable
from typing import Any

from lamina.engine import markdown as mdr
from lamina.engine import office
from lamina.engine.errors import InvalidDocumentError
from lamina.engine.pages import select_pages
from lamina.engine.result import PageResult
from lamina.engine.text import decode
from lamina.types import Item, ParseConfiguration

Coord = tuple[int, int]  # (row, column), 1-based as in openpyxl


def parse(data: bytes, config: ParseConfiguration) -> tuple[int, list[PageResult]]:
    """Parse an XLSX/XLSM workbook: the page count (all worksheets) and the selected pages."""
    office.check_package(data, "XLSX", "xl/workbook.xml")
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:
        raise office.invalid("XLSX", exc) from exc
    include_hidden = bool(office.input_option(config, "spreadsheet", "include_hidden_sheets"))
    sheets = workbook.worksheets
    pages: list[PageResult] = []
    for number in select_pages(len(sheets), config.page_ranges):
        sheet = sheets[number - 1]
        if sheet.sheet_state != "visible" and not include_hidden:
            continue
        try:
            items: list[Item] = [mdr.heading_item(str(sheet.title), 1)]
            items.extend(_sheet_items(_sheet_values(sheet)))
            pages.append(office.build_page(number, items))
        except Exception as exc:  # one odd sheet fails alone
            pages.append(office.failed_page(number, "Sheet", exc))
    workbook.close()
    return len(sheets), pages


def parse_delimited(
    data: bytes, config: ParseConfiguration, *, tab: bool = False
) -> tuple[int, list[PageResult]]:
    """Parse a CSV or TSV file into one page holding one table.

    The delimiter is sniffed from the first 64 KB (``,`` ``;`` tab or ``|``); when sniffing
    fails it is a tab for ``.tsv`` files and a comma otherwise. Cells stay strings: CSV has no
    types, and turning "007" into 7 would lose data.
    """
    text = decode(data)
    if not select_pages(1, config.page_ranges):
        return 1, []
    delimiter = _sniff_delimiter(text[:65536], "\t" if tab else ",")
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        kind = "TSV" if tab else "CSV"
        raise InvalidDocumentError(f"Not a valid {kind} file: {exc}.") from exc
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    items: list[Item] = []
    if rows:
        width = max(len(r) for r in rows)
        grid: list[list[mdr.Cell]] = [[*r, *[""] * (width - len(r))] for r in rows]
        items.append(mdr.table_item(grid))
    return 1, [office.build_page(1, items)]


def _sniff_delimiter(sample: str, default: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


# --- sheets ---------------------------------------------------------------------------------


def _sheet_values(sheet: Any) -> dict[Coord, mdr.Cell]:
    """The sheet's filled cells as {(row, col): value}, merged areas filled with their value."""
    values: dict[Coord, mdr.Cell] = {}
    # ``_cells`` holds only the cells the file defines; iterating the used range instead would
    # create every empty cell of a sparse sheet.
    for (row, col), cell in sheet._cells.items():
        value = cell_value(cell.value)
        if value is not None and value != "":
            values[(row, col)] = value
    for merged in sheet.merged_cells.ranges:
        top_left = values.get((merged.min_row, merged.min_col))
        if top_left is None:
            continue
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                values[(row, col)] = top_left
    return values


def cell_value(value: Any) -> mdr.Cell:
    """A cell's value for ``rows``: numbers as floats, dates ISO, booleans TRUE/FALSE."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).strip()


def _sheet_items(values: dict[Coord, mdr.Cell]) -> list[Item]:
    items: list[Item] = []
    for top, left, bottom, right in _blocks(values):
        if (top, left) == (bottom, right):
            items.append(mdr.text_item(mdr.cell_text(values[(top, left)])))
            continue
        rows = [
            [values.get((r, c)) for c in range(left, right + 1)] for r in range(top, bottom + 1)
        ]
        items.append(mdr.table_item(rows))
    return items


def _blocks(values: dict[Coord, mdr.Cell]) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (top, left, bottom, right) of the groups of touching cells, boxes that
    overlap merged, in reading order."""
    seen: set[Coord] = set()
    boxes: list[list[int]] = []
    for start in sorted(values):
        if start in seen:
            continue
        seen.add(start)
        stack = [start]
        box = [start[0], start[1], start[0], start[1]]
        while stack:
            row, col = stack.pop()
            box = [min(box[0], row), min(box[1], col), max(box[2], row), max(box[3], col)]
            for near in _neighbours(row, col):
                if near in values and near not in seen:
                    seen.add(near)
                    stack.append(near)
        boxes.append(box)
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return sorted((b[0], b[1], b[2], b[3]) for b in boxes)


def _neighbours(row: int, col: int) -> Iterable[Coord]:
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                yield row + dr, col + dc
