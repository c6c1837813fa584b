"""Fixtures for the extractor tests: business PDFs parsed once by the engine, and a checker that
a citation's box lies on the words pdfplumber finds for its text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from lamina.engine import parse_document
from lamina.services.runtime.execution import items_pages
from lamina.types import FailedPage, ItemsPage, ParseConfiguration
from tests.fixtures.business import (
    make_form_pdf,
    make_invoice_pdf,
    make_receipt_pdf,
    make_two_invoices_pdf,
)

Pages = list[ItemsPage | FailedPage]


@pytest.fixture(scope="session")
def business_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("business")
    return {
        "invoice": make_invoice_pdf(folder),
        "form": make_form_pdf(folder),
        "receipt": make_receipt_pdf(folder),
        "two_invoices": make_two_invoices_pdf(folder),
    }


@pytest.fixture(scope="session")
def parsed(business_pdfs: dict[str, Path]) -> dict[str, Pages]:
    """The items of each business PDF, as a ``cost_effective`` parse job stores them."""
    config = ParseConfiguration(tier="cost_effective")
    return {
        name: items_pages(parse_document(path.read_bytes(), filename=path.name, config=config))
        for name, path in business_pdfs.items()
    }


@pytest.fixture(scope="session")
def parsed_cells(business_pdfs: dict[str, Path]) -> dict[str, Pages]:
    """The items of each business PDF as an extract job parses a ``dfl-`` file itself: with
    ``granular_bboxes: ["cell"]`` (a labelled box per table cell)."""
    config = ParseConfiguration(tier="cost_effective", output_options={"granular_bboxes": ["cell"]})
    return {
        name: items_pages(parse_document(path.read_bytes(), filename=path.name, config=config))
        for name, path in business_pdfs.items()
    }


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection area over the area of ``b``."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return (x1 - x0) * (y1 - y0) / (b[2] * b[3])


@pytest.fixture(scope="session")
def assert_cites(business_pdfs: dict[str, Path]) -> Callable[[str, dict[str, Any], str], None]:
    """``assert_cites(doc, field_meta, text)``: the citation names ``text``, and its box covers
    most of the pdfplumber word boxes of ``text`` on that page (the value, not its label)."""

    def check(doc: str, meta: dict[str, Any], text: str) -> None:
        citations = meta["citation"]
        assert citations, meta
        cite = citations[0]
        assert text in cite["matching_text"] or cite["matching_text"] in text, cite
        box = cite["bounding_boxes"][0]
        cited = (box["x"], box["y"], box["w"], box["h"])
        with pdfplumber.open(business_pdfs[doc]) as pdf:
            page = pdf.pages[cite["page"] - 1]
            assert cite["page_dimensions"] == {
                "width": pytest.approx(float(page.width), abs=0.5),
                "height": pytest.approx(float(page.height), abs=0.5),
            }
            first_word = text.split()[0]
            words = [w for w in page.extract_words() if w["text"] == first_word]
        assert words, f"{first_word!r} not on page {cite['page']}"
        best = max(
            _overlap(cited, (w["x0"], w["top"], w["x1"] - w["x0"], w["bottom"] - w["top"]))
            for w in words
        )
        assert best > 0.6, f"citation box {cited} does not lie on {text!r}"

    return check
