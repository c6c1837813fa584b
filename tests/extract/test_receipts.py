"""Receipts without labels on their key fields: the shop's name at the top, its address block
under it, the date glued to the time, the total after ``TOTAL`` near the bottom. Generated
receipts (tests/fixtures/receipts.py) parsed by the real engine, from a PDF text layer and from
an image through OCR; a few cases are built as parse items directly to pin one layout habit
(columns of labels and amounts, a missing field, an ambiguous one)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from lamina.engine import parse_document
from lamina.extract import Document, extract_local
from lamina.extract._layout import build_layout
from lamina.extract._lexicon import repair_words
from lamina.extract._roles import field_role, strip_registration
from lamina.extract._values import find_amount, find_date, repair_ocr
from lamina.services.runtime.execution import items_pages
from lamina.types import ParseConfiguration
from tests.fixtures.receipts import (
    GROCER,
    GROCER_FIELDS,
    RECEIPT_SCHEMA,
    TILL,
    TILL_FIELDS,
    draw_receipt_pdf,
    make_receipt_png,
)


def _fold(text: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _parse(path: Path) -> Document:
    result = parse_document(
        path.read_bytes(), filename=path.name, config=ParseConfiguration(tier="cost_effective")
    )
    confidence = {
        p.page_number: p.metadata.confidence if p.metadata else None for p in result.pages
    }
    return Document.from_pages(items_pages(result), confidence)


@pytest.fixture(scope="module")
def till_pdf(tmp_path_factory: pytest.TempPathFactory) -> Document:
    return _parse(draw_receipt_pdf(tmp_path_factory.mktemp("r") / "till.pdf", TILL))


@pytest.fixture(scope="module")
def grocer_pdf(tmp_path_factory: pytest.TempPathFactory) -> Document:
    return _parse(draw_receipt_pdf(tmp_path_factory.mktemp("r") / "grocer.pdf", GROCER))


@pytest.fixture(scope="module")
def till_photo(tmp_path_factory: pytest.TempPathFactory) -> Document:
    return _parse(make_receipt_png(tmp_path_factory.mktemp("r")))


@pytest.mark.parametrize(
    ("doc", "want"), [("till_pdf", TILL_FIELDS), ("grocer_pdf", GROCER_FIELDS)]
)
def test_unlabelled_receipt_fields_from_layout(
    doc: str, want: dict[str, str], request: pytest.FixtureRequest
) -> None:
    out = extract_local(request.getfixturevalue(doc), RECEIPT_SCHEMA)
    assert out.data == want
    meta = out.field_metadata["document_metadata"]
    for key in want:
        assert meta[key]["confidence"] >= 0.6, (key, meta[key])
        assert meta[key]["citation"], key
    # the address is a block: one citation per printed line, each with its box
    lines = meta["address"]["citation"]
    assert len(lines) >= 2 and all(c["bounding_boxes"] for c in lines)
    assert " ".join(c["matching_text"] for c in lines) == want["address"]


def test_vendor_is_the_name_over_the_address_not_the_first_line(till_pdf: Document) -> None:
    out = extract_local(till_pdf, RECEIPT_SCHEMA)
    meta = out.field_metadata["document_metadata"]
    assert "ALICE" not in str(out.data["company"])  # type: ignore[index]
    assert "address below" in meta["company"]["reasoning"]
    assert meta["company"]["citation"][0]["matching_text"] == TILL_FIELDS["company"]


def test_total_after_rounding_not_subtotal_cash_or_change(till_pdf: Document) -> None:
    out = extract_local(till_pdf, RECEIPT_SCHEMA)
    meta = out.field_metadata["document_metadata"]["total"]
    assert out.data["total"] == "30.70"  # type: ignore[index]
    assert "paid minus change" in meta["reasoning"]
    (cite,) = meta["citation"]
    assert cite["matching_text"] == "30.70" and cite["page"] == 1
    box = cite["bounding_boxes"][0]
    assert box["x"] > TILL.width_pt / 2  # the amount at the right edge, not the label


def test_typed_schema_gets_iso_date_and_number(till_pdf: Document) -> None:
    schema = {
        "type": "object",
        "properties": {
            "vendor_name": {"type": "string"},
            "receipt_date": {"type": "string", "format": "date"},
            "total_amount": {"type": "number"},
        },
    }
    out = extract_local(till_pdf, schema)
    assert out.data == {
        "vendor_name": "HARBOUR LIGHT TRADING SDN BHD",
        "receipt_date": "2024-03-14",
        "total_amount": 30.7,
    }


def test_photo_through_ocr_reports_parsing_confidence(till_photo: Document) -> None:
    out = extract_local(till_photo, RECEIPT_SCHEMA)
    data, meta = out.data, out.field_metadata["document_metadata"]
    assert isinstance(data, dict)
    for key, want in TILL_FIELDS.items():
        assert _fold(data[key]) == _fold(want), (key, data[key])
        parsing = meta[key]["parsing_confidence"]
        assert parsing is not None and 0.5 < parsing < 1.0  # an OCR'd page
        assert meta[key]["confidence"] <= meta[key]["extraction_confidence"]
    # a long OCR'd value is discounted more than a short one
    lost = {k: meta[k]["extraction_confidence"] - meta[k]["confidence"] for k in meta}
    assert lost["address"] > lost["total"]


def test_born_digital_page_has_full_parsing_confidence(till_pdf: Document) -> None:
    meta = extract_local(till_pdf, RECEIPT_SCHEMA).field_metadata["document_metadata"]
    assert meta["total"]["parsing_confidence"] == 1.0
    assert meta["total"]["confidence"] == meta["total"]["extraction_confidence"]


# --- layouts built as parse items ---------------------------------------------------------------


def _page(rows: list[str | tuple[str, str]], width: float = 200.0) -> list[dict[str, Any]]:
    """One page of text items, one row each (a pair is a label left and a value right)."""
    items = []
    for i, row in enumerate(rows):
        y = 10.0 + 14.0 * i
        parts = [(row, 10.0)] if isinstance(row, str) else [(row[0], 10.0), (row[1], 150.0)]
        for text, x in parts:
            box = {"x": x, "y": y, "w": 5.0 * len(text), "h": 10.0}
            items.append({"type": "text", "value": text, "md": text, "bbox": [box]})
    return [
        {
            "page_number": 1,
            "page_width": width,
            "page_height": 20 + 14.0 * len(rows),
            "items": items,
        }
    ]


def test_rows_join_pieces_that_share_a_band() -> None:
    layout = build_layout(Document.from_pages(_page([("TOTAL", "12.00"), "THANK YOU"])))
    assert [r.text for r in layout.rows] == ["TOTAL  12.00", "THANK YOU"]
    ((line, span, box),) = layout.rows[0].locate(7, 12)
    assert line.text == "12.00" and span == (0, 5) and box is not None and box[0] == 150.0


def test_column_of_labels_then_column_of_amounts_are_paired() -> None:
    """Transcripts and some OCR read the labels column before the amounts column."""
    rows: list[str | tuple[str, str]] = [
        "CORNER HARDWARE ENTERPRISE",
        "8, JALAN BUNGA 2,",
        "56000 KUALA LUMPUR",
        "HAMMER 1 X 102.36",
        "TOTAL SALES (INCLUSIVE GST)",
        "CASH",
        "CHANGE",
        "RM",
        "108.50",
        "150.00",
        "41.50",
    ]
    out = extract_local(_page(rows), RECEIPT_SCHEMA)
    meta = out.field_metadata["document_metadata"]["total"]
    assert out.data["total"] == "108.50"  # type: ignore[index]
    assert "TOTAL SALES" in meta["reasoning"]


def test_missing_field_is_null_with_a_reason() -> None:
    out = extract_local(_page(["CORNER HARDWARE ENTERPRISE", ("TOTAL", "9.90")]), RECEIPT_SCHEMA)
    assert out.data["date"] is None  # type: ignore[index]
    meta = out.field_metadata["document_metadata"]["date"]
    assert meta["confidence"] == 0.0 and meta["citation"] == [] and "date" in meta["reasoning"]


def test_two_unlabelled_amounts_give_a_low_confidence() -> None:
    """No TOTAL cue, no cash/change arithmetic: the answer is a guess and says so."""
    out = extract_local(
        _page(["CORNER HARDWARE ENTERPRISE", ("NAILS", "4.00"), ("SCREWS", "4.50")]),
        RECEIPT_SCHEMA,
    )
    meta = out.field_metadata["document_metadata"]["total"]
    assert meta["confidence"] < 0.5
    assert "Runner-up" in meta["reasoning"] or out.data["total"] is None  # type: ignore[index]


def test_glued_date_and_time_on_an_order_number() -> None:
    rows: list[str | tuple[str, str]] = ["CORNER CAFE", "Order No. 100021911/03/201806:20PM"]
    out = extract_local(_page(rows), RECEIPT_SCHEMA)
    assert out.data["date"] == "11/03/2018"  # type: ignore[index]


# --- field roles and value readers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "description", "role"),
    [
        ("company", "issuing company name", "vendor"),
        ("vendor_name", "", "vendor"),
        ("merchant", "", "vendor"),
        ("address", "company address", "address"),
        ("store_address", "", "address"),
        ("total", "total amount paid as printed", "total"),
        ("amount_due", "", "total"),
        ("date", "date as printed", "date"),
        ("invoice_date", "", "date"),
        ("due_date", "", None),
        ("customer_address", "", None),
        ("email_address", "", None),
        ("subtotal", "", None),
        ("company", "the employer of the applicant", None),
    ],
)
def test_field_roles_from_name_and_description(key: str, description: str, role: str) -> None:
    assert field_role(key, None, description, "string") == role


@pytest.mark.parametrize(
    ("text", "iso", "printed"),
    [
        ("25/12/20188:13:39PM", "2018-12-25", "25/12/2018"),
        ("18/03/1815:17 0605", "2018-03-18", "18/03/18"),
        ("03Mar201818:22", "2018-03-03", "03Mar2018"),
        ("05 MAY 18", "2018-05-05", "05 MAY 18"),
        ("24-MAR-2018", "2018-03-24", "24-MAR-2018"),
        ("ORD #64-REG #2-25/12/2016 13:51", "2016-12-25", "25/12/2016"),
        ("2024年3月5日", "2024-03-05", "2024年3月5日"),
        ("DATE: 25 / 12 / 2018 10:22", "2018-12-25", "25 / 12 / 2018"),
        ("2018 - 12 - 25", "2018-12-25", "2018 - 12 - 25"),
    ],
)
def test_dates_in_receipt_forms(text: str, iso: str, printed: str) -> None:
    found = find_date(text)
    assert found is not None and found[0] == iso
    assert text[found[1][0] : found[1][1]] == printed


@pytest.mark.parametrize("text", ["MAR 2018", "Marketing 12, 2018", "Tel 03-1234 5678"])
def test_not_dates(text: str) -> None:
    assert find_date(text) is None


def test_local_currency_marks() -> None:
    assert find_amount("RM60.30") == (60.3, (0, 7), "MYR")
    assert find_amount("TOTAL  RM  15.00") == (15.0, (7, 16), "MYR")
    found = find_amount("MAR 2018")
    assert found is not None and found[0] == 2018.0  # a whole number, not "201" and "8"


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("433O0 SERI KEMBANGAN", "43300 SERI KEMBANGAN"),
        ("LOT P.T. 281I", "LOT P.T. 2811"),
        ("AEON C0. (M) BHD", "AEON CO. (M) BHD"),
        ("Ja1an SS21/39", "Jalan SS21/39"),
        ("S117, 3RD FLR, NO 2A", "S117, 3RD FLR, NO 2A"),
        ("KMF F00DICI0US SDN BHD", "KMF FOODICIOUS SDN BHD"),
        ("SECT1ON U6, Golden Sc0op", "SECTION U6, Golden Scoop"),
        ("BLOCK1A TOWER10A City,No1,Medan", "BLOCK1A TOWER10A City,No1,Medan"),
        ("JalanSS21/39,47400Peta1ing Jaya", "JalanSS21/39,47400Petaling Jaya"),
    ],
)
def test_ocr_lookalikes_repaired_inside_words(text: str, fixed: str) -> None:
    assert repair_ocr(text) == fixed


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("12,JaianTampoi 7/4,KawasanPerirndustrian", "12,JalanTampoi 7/4,KawasanPerindustrian"),
        ("Tamar Desa, LeveI 2", "Taman Desa, Level 2"),
        ("SUN VICTORY SON BHD", "SUN VICTORY SDN BHD"),
        ("Timeless Kitchenette San Bhd", "Timeless Kitchenette Sdn Bhd"),
        ("Loi 3, Henara Dion", "Lot 3, Menara Dion"),
        ("L0T1851-A, JALAN KPB 6", "LOT1851-A, JALAN KPB 6"),
        ("99 SPEED NART S/B", "99 SPEED MART S/B"),
        ("51200 KOALA LUMPUR, SIN THYE & COMFANY", "51200 KUALA LUMPUR, SIN THYE & COMPANY"),
    ],
)
def test_misread_address_and_name_words_respelt(text: str, fixed: str) -> None:
    assert repair_words(text)[0] == fixed


@pytest.mark.parametrize(
    "text",
    [
        "BEYOND BROTHERS",
        "JALAN JEJAKA",
        "SUNGAI RENGIT",
        "LAMAN RIMBUNAN",
        "BUNGA TANJONG",
        "PETRO TRADING",
        "TAMPOI PARK",
    ],
)
def test_unknown_words_are_not_respelt_into_lexicon_words(text: str) -> None:
    assert repair_words(text) == (text, [])


def test_ocr_address_respelt_with_lower_confidence() -> None:
    """Only OCR'd text is respelt (a text layer is taken as written), and each respelt word
    lowers the field's confidence."""
    rows: list[str | tuple[str, str]] = [
        "CORNER HARDWARE SDN BHD",
        "8, JAIAN BUNGA 2, TAMAR MAJU",
        "56000 KUALA LUMPUR",
        "TEL 03-1234 5678",
        ("TOTAL", "9.90"),
    ]
    typed = extract_local(Document.from_pages(_page(rows)), RECEIPT_SCHEMA)
    photo = extract_local(Document.from_pages(_page(rows), {1: 0.95}), RECEIPT_SCHEMA)
    assert typed.data["address"] == "8, JAIAN BUNGA 2, TAMAR MAJU 56000 KUALA LUMPUR"  # type: ignore[index]
    assert photo.data["address"] == "8, JALAN BUNGA 2, TAMAN MAJU 56000 KUALA LUMPUR"  # type: ignore[index]
    meta = photo.field_metadata["document_metadata"]["address"]
    assert "respelt: JAIAN, TAMAR" in meta["reasoning"]
    typed_meta = typed.field_metadata["document_metadata"]["address"]
    assert meta["extraction_confidence"] < typed_meta["extraction_confidence"]


def test_address_block_runs_over_town_and_country_lines() -> None:
    """Lines that name only a town, a state or a country continue the address block; a
    registration number before it and a title after it are not part of it."""
    rows: list[str | tuple[str, str]] = [
        "GOLDEN SCOOP SDN BHD",
        "(NO.169609-A) A-16-1, TOWER A, NORTHPOINT OFFICE,",
        "MID VALLEY CITY, NO1, MEDAN SYED PUTRA UTARA KUALA",
        "LUMPUR",
        "MALAYSIA",
        "AMPANG POINT CENTRE",
        "GUEST CHECK",
        ("TOTAL", "21.50"),
    ]
    out = extract_local(_page(rows), RECEIPT_SCHEMA)
    assert out.data["address"] == (  # type: ignore[index]
        "A-16-1, TOWER A, NORTHPOINT OFFICE, MID VALLEY CITY, NO1, MEDAN SYED PUTRA UTARA "
        "KUALA LUMPUR MALAYSIA"
    )


def test_registration_number_is_not_part_of_the_name() -> None:
    assert strip_registration("AEON CO. (M) BHD (126926-H)") == "AEON CO. (M) BHD"
    assert strip_registration("ACME SDN BHD Co. No: 12345-X") == "ACME SDN BHD"
    assert strip_registration("MOONLIGHT CAKE HOUSE SDN BHD 862725-U") == (
        "MOONLIGHT CAKE HOUSE SDN BHD"
    )
    assert strip_registration("KMF FOODICIOUS SDN BHD \uff081132106-H)") == "KMF FOODICIOUS SDN BHD"
    assert strip_registration("S.H.H. MOTOR (SUNGAI RENGIT) SDN. BHD.") == (
        "S.H.H. MOTOR (SUNGAI RENGIT) SDN. BHD."
    )


def test_an_identifier_needs_a_digit_not_a_courtesy_line() -> None:
    schema = {"type": "object", "properties": {"invoice_number": {"type": "string"}}}
    courtesy = "如有不便\uff0c敬请见谅\uff0c谢谢\uff01"  # a courtesy line, no number in it
    rows: list[str | tuple[str, str]] = ["CORNER CAFE", f"Invoice: {courtesy}"]
    out = extract_local(_page(rows), schema)
    assert out.data == {"invoice_number": None}
    rows = ["CORNER CAFE", "Invoice: INV-0042"]
    assert extract_local(_page(rows), schema).data == {"invoice_number": "INV-0042"}


def test_extract_job_on_a_photo_reports_the_ocr_confidence(tmp_path: Path) -> None:
    """Through the API: the extract job parses the image itself and hands the page's OCR
    confidence to the extractor."""
    from tests.server.conftest import running_app

    png = make_receipt_png(tmp_path).read_bytes()
    with running_app(tmp_path / "data") as client:
        file_id = client.post(
            "/api/v1/beta/files", files={"file": ("till.png", png)}, data={"purpose": "extract"}
        ).json()["id"]
        config = {"data_schema": RECEIPT_SCHEMA, "tier": "cost_effective"}
        job = client.post("/api/v2/extract", json={"file_input": file_id, "configuration": config})
        assert job.status_code == 200, job.text
        deadline = time.monotonic() + 120
        while (body := client.get(f"/api/v2/extract/{job.json()['id']}").json())["status"] in (
            "PENDING",
            "RUNNING",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        url = f"/api/v2/extract/{job.json()['id']}?expand=extract_metadata"
        body = client.get(url).json()
    assert body["status"] == "COMPLETED", body
    assert _fold(body["extract_result"]["total"]) == _fold(TILL_FIELDS["total"])
    meta = body["extract_metadata"]["field_metadata"]["document_metadata"]["total"]
    assert 0.5 < meta["parsing_confidence"] < 1.0


def test_total_in_a_table_row_with_european_amounts() -> None:
    """An invoice's total printed as the last row of its items table (``Balance due`` /
    ``1.234,98 EUR``): read through the label, the amount in the European convention."""
    rows = [
        ["Item", "Qty", "Total"],
        ["Switch", "8", "640,00 EUR"],
        ["", "Balance due", "1.234,98 EUR"],
    ]
    table = {
        "type": "table",
        "rows": rows,
        "md": "",
        "csv": "",
        "html": "",
        "bbox": [{"x": 10.0, "y": 40.0, "w": 180.0, "h": 42.0}],
    }
    page = _page(["Blue Harbor Logistics"])
    page[0]["items"].append(table)
    schema = {"type": "object", "properties": {"total": {"type": "number"}}}
    out = extract_local(page, schema)
    assert out.data == {"total": 1234.98}
    assert out.field_metadata["document_metadata"]["total"]["citation"][0]["matching_text"] == (
        "1.234,98 EUR"
    )
