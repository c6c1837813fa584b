"""What a PDF page holds besides its text, read with pdfium: URI link annotations and the
straight pieces of vector paths (ruling lines of tables).

Part of the PDF reader (:mod:`lamina.engine.pdf`); boxes are on the page as displayed.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from lamina.engine.pdf_text import CONTROL, SURROGATE, join_surrogates

if TYPE_CHECKING:
    import pypdfium2

    from lamina.engine.pdf_text import DisplayTransform

_MAX_PATH_SEGMENTS = 20_000  # per page: more is a drawing, not rules


def uri_links(
    pdf: pypdfium2.PdfDocument,
    page: pypdfium2.PdfPage,
    textpage: pypdfium2.PdfTextPage,
    transform: DisplayTransform,
) -> list[tuple[str, tuple[float, float, float, float], str]]:
    """The page's links to URIs: (text under the link's box, box on the displayed page, url).

    Links inside the document (GoTo actions, citations) are left out.
    """
    import pypdfium2.raw as pdfium_c

    out: list[tuple[str, tuple[float, float, float, float], str]] = []
    pos = ctypes.c_int(0)
    link = pdfium_c.FPDF_LINK()
    rect = pdfium_c.FS_RECTF()
    seen = 0
    while pdfium_c.FPDFLink_Enumerate(page.raw, ctypes.byref(pos), ctypes.byref(link)):
        seen += 1
        if seen > 5_000:
            break
        action = pdfium_c.FPDFLink_GetAction(link)
        if not action or pdfium_c.FPDFAction_GetType(action) != pdfium_c.PDFACTION_URI:
            continue
        size = pdfium_c.FPDFAction_GetURIPath(pdf.raw, action, None, 0)
        if size <= 1:
            continue
        buf = ctypes.create_string_buffer(size)
        pdfium_c.FPDFAction_GetURIPath(pdf.raw, action, buf, size)
        url = buf.value.decode("utf-8", "replace").strip()
        if not url or not pdfium_c.FPDFLink_GetAnnotRect(link, ctypes.byref(rect)):
            continue
        left, right = min(rect.left, rect.right), max(rect.left, rect.right)
        bottom, top = min(rect.bottom, rect.top), max(rect.bottom, rect.top)
        text = _link_text(textpage, left, bottom, right, top)
        text = " ".join(CONTROL.sub("", text.replace("\ufffe", "").replace("\x02", "")).split())
        if SURROGATE.search(text):
            text = join_surrogates(text)
        box = transform.box(left, bottom, right, top)
        out.append((text, (box[0], box[1], box[2], box[3]), url))
    return out


def _link_text(
    textpage: pypdfium2.PdfTextPage, left: float, bottom: float, right: float, top: float
) -> str:
    """The text a link's box covers: the characters whose centre is inside the box.

    Link boxes are often drawn taller than their line, so "whatever touches the box" picks up
    pieces of the lines above and below. The run is found from the character under the box's
    left middle and grown both ways while centres stay inside; a box over several lines (no
    character at its middle) falls back to pdfium's bounded text.
    """
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    count = textpage.count_chars()
    height = top - bottom
    if height <= 0 or count <= 0:
        return ""
    d = [ctypes.c_double() for _ in range(4)]
    refs = [ctypes.byref(v) for v in d]

    def inside(i: int) -> bool | None:
        """Whether char ``i``'s centre is in the box; None for a char with no box (a space)."""
        if not pdfium_c.FPDFText_GetCharBox(raw, i, refs[0], refs[1], refs[2], refs[3]):
            return None
        cl, cr, cb, ct = (v.value for v in d)
        if cr - cl <= 0 and ct - cb <= 0:
            return None
        cx, cy = (cl + cr) / 2, (cb + ct) / 2
        return left <= cx <= right and bottom <= cy <= top

    mid = (bottom + top) / 2
    start = -1
    for x in (left + 1.0, left + height / 2, (left + right) / 2):
        start = pdfium_c.FPDFText_GetCharIndexAtPos(raw, x, mid, height / 2, height / 4)
        if start >= 0 and inside(start):
            break
        start = -1
    if start < 0:
        return str(textpage.get_text_bounded(left, bottom, right, top))
    first = last = start
    i = start - 1
    while i >= 0 and (ok := inside(i)) is not False:
        if ok:
            first = i
        i -= 1
    i = start + 1
    while i < count and (ok := inside(i)) is not False:
        if ok:
            last = i
        i += 1
    return str(textpage.get_text_range(first, last - first + 1))


def path_segments(
    page: pypdfium2.PdfPage, transform: DisplayTransform
) -> list[tuple[float, float, float, float]]:
    """Straight horizontal and vertical pieces of the page's vector paths (also in forms),
    on the displayed page: the candidates for table rules.

    A filled thin rectangle (a common way to draw a rule) yields its two long edges, which
    the table finder snaps together.
    """
    import pypdfium2.raw as pdfium_c

    c: Any = pdfium_c
    out: list[tuple[float, float, float, float]] = []
    matrix = c.FS_MATRIX()
    fx, fy = ctypes.c_float(), ctypes.c_float()
    stack: list[tuple[Any, tuple[float, ...]]] = [
        (c.FPDFPage_GetObject(page.raw, i), (1.0, 0.0, 0.0, 1.0, 0.0, 0.0))
        for i in range(c.FPDFPage_CountObjects(page.raw))
    ]
    visited = 0
    while stack and visited < _MAX_PATH_SEGMENTS:
        obj, outer = stack.pop()
        visited += 1
        kind = c.FPDFPageObj_GetType(obj)
        if kind not in (c.FPDF_PAGEOBJ_PATH, c.FPDF_PAGEOBJ_FORM):
            continue
        if not c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
            continue
        m = _compose((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), outer)
        if kind == c.FPDF_PAGEOBJ_FORM:
            stack.extend(
                (c.FPDFFormObj_GetObject(obj, i), m) for i in range(c.FPDFFormObj_CountObjects(obj))
            )
            continue
        start: tuple[float, float] | None = None
        prev: tuple[float, float] | None = None
        for k in range(c.FPDFPath_CountSegments(obj)):
            seg = c.FPDFPath_GetPathSegment(obj, k)
            if not c.FPDFPathSegment_GetPoint(seg, ctypes.byref(fx), ctypes.byref(fy)):
                continue
            a, b, cc, d, e, f = m
            pt = (a * fx.value + cc * fy.value + e, b * fx.value + d * fy.value + f)
            seg_type = c.FPDFPathSegment_GetType(seg)
            if seg_type == c.FPDF_SEGMENT_MOVETO:
                start = pt
            elif seg_type == c.FPDF_SEGMENT_LINETO and prev is not None:
                _add_rule(out, prev, pt, transform)
            if c.FPDFPathSegment_GetClose(seg) and start is not None:
                _add_rule(out, pt, start, transform)
            prev = pt
        if len(out) > _MAX_PATH_SEGMENTS:
            break
    return out


def _compose(inner: tuple[float, ...], outer: tuple[float, ...]) -> tuple[float, ...]:
    """The matrix applying ``inner`` then ``outer`` (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


def _add_rule(
    out: list[tuple[float, float, float, float]],
    p: tuple[float, float],
    q: tuple[float, float],
    transform: DisplayTransform,
) -> None:
    """Add the segment p→q (user space) if it is horizontal or vertical."""
    if abs(p[0] - q[0]) > 1.0 and abs(p[1] - q[1]) > 1.0:
        return
    x0, y0 = transform.point(*p)
    x1, y1 = transform.point(*q)
    out.append((x0, y0, x1, y1))
