"""The local extractor (tier cost_effective) on real generated PDFs: layouts, normalisation,
missing values, citations, per-page and per-row targets, and schemas from pydantic models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any

import pytest
from pydantic import BaseModel

from lamina.extract import SchemaError, check_schema, compile_schema, extract_local
from lamina.extract._values import find_amount, find_date, parse_bool
from tests.extract.conftest import Pages
from tests.fixtures.business import (
    FORM,
    INVOICE,
    INVOICE_ITEMS,
    INVOICE_VENDOR,
    RECEIPT,
    invoice_schema,
)

Cites = Callable[[str, dict[str, Any], str], None]


def test_invoice_label_colon_value_and_line_items(
    parsed: dict[str, Pages], assert_cites: Cites
) -> None:
    out = extract_local(parsed["invoice"], invoice_schema())
    data, meta = out.data, out.field_metadata["document_metadata"]
    assert isinstance(data, dict)
    for key, value in INVOICE.items():
        assert data[key] == value, key
    assert data["vendor"] == INVOICE_VENDOR  # the letterhead
    assert data["line_items"] == INVOICE_ITEMS
    assert_cites("invoice", meta["invoice_number"], "INV-2024-0042")
    assert_cites("invoice", meta["invoice_date"], "March 5, 2024")
    assert_cites("invoice", meta["email"], "billing@northwind.example")
    assert meta["invoice_number"]["confidence"] >= 0.9
    assert meta["line_items"][1]["amount"]["citation"][0]["matching_text"] == "$300.00"
    assert meta["line_items"][1]["amount"]["citation"][0]["page"] == 1


def test_missing_value_is_null_with_zero_confidence(parsed: dict[str, Pages]) -> None:
    out = extract_local(parsed["invoice"], invoice_schema())
    assert isinstance(out.data, dict)
    assert out.data["po_number"] is None
    meta = out.field_metadata["document_metadata"]["po_number"]
    assert meta["confidence"] == 0.0 and meta["citation"] == []
    assert "po_number" in meta["reasoning"]


def test_form_labels_above_values_in_two_columns(
    parsed: dict[str, Pages], assert_cites: Cites
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "full_name": {"type": "string"},
            "date_of_birth": {"type": "string", "format": "date"},
            "email": {"type": "string"},
            "phone": {"type": "string"},
            "employer": {"type": "string", "description": "Company the person works for"},
            "start_date": {"type": "string", "format": "date"},
        },
    }
    out = extract_local(parsed["form"], schema)
    assert out.data == FORM
    meta = out.field_metadata["document_metadata"]
    assert meta["full_name"]["citation"][0]["matching_text"] == "Maria Gonzalez"
    assert meta["full_name"]["citation"][0]["bounding_boxes"]


def test_receipt_label_left_value_right(parsed: dict[str, Pages], assert_cites: Cites) -> None:
    schema = {
        "type": "object",
        "properties": {
            "merchant": {"type": "string"},
            "date": {"type": "string", "format": "date"},
            "receipt_number": {"type": "string"},
            "payment_method": {"type": "string", "enum": ["CASH", "VISA", "MASTERCARD"]},
            "tax": {"type": "number"},
            "total": {"type": "number"},
        },
    }
    out = extract_local(parsed["receipt"], schema)
    assert isinstance(out.data, dict)
    for key, value in RECEIPT.items():
        assert out.data[key] == value, key
    assert out.data["receipt_number"] == "R-88120"
    assert out.data["payment_method"] == "VISA"
    assert_cites("receipt", out.field_metadata["document_metadata"]["receipt_number"], "R-88120")


def test_per_page_gives_one_record_per_page(parsed: dict[str, Pages]) -> None:
    schema = {
        "type": "object",
        "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}},
    }
    out = extract_local(parsed["two_invoices"], schema, target="per_page")
    assert out.data == [
        {"invoice_number": "INV-2024-0042", "total": 1234.5},
        {"invoice_number": "INV-2024-0043", "total": 99.0},
    ]
    page_meta = out.field_metadata["page_metadata"]
    assert [m["total"]["citation"][0]["page"] for m in page_meta] == [1, 2]


def test_per_table_row_gives_one_record_per_row(parsed: dict[str, Pages]) -> None:
    row_schema = invoice_schema()["properties"]["line_items"]["items"]
    out = extract_local(parsed["invoice"], row_schema, target="per_table_row")
    assert out.data == INVOICE_ITEMS  # the Subtotal/Tax/Total rows are not items
    assert len(out.field_metadata["row_metadata"]) == 2


class Department(StrEnum):
    ENGINEERING = "Engineering"
    SALES = "Sales"


class Invoice(BaseModel):
    invoice_number: str
    invoice_date: date
    total: float
    customer: str | None = None


def test_pydantic_model_schema_with_refs_optionals_and_enums(parsed: dict[str, Pages]) -> None:
    class Wrapper(BaseModel):
        invoice: Invoice
        department: Department | None = None

    out = extract_local(parsed["invoice"], Wrapper.model_json_schema())
    assert isinstance(out.data, dict)
    assert Invoice.model_validate(out.data["invoice"]) == Invoice(
        invoice_number="INV-2024-0042",
        invoice_date=date(2024, 3, 5),
        total=1234.5,
        customer="Globex Corporation",
    )
    assert out.data["department"] is None


@pytest.mark.parametrize(
    ("schema", "loc"),
    [
        ([1], ["data_schema"]),
        ({"type": "array", "items": {}}, ["data_schema", "type"]),
        ({"type": "object", "properties": {}}, ["data_schema", "properties"]),
        ({"properties": {"a": {"type": "strin"}}}, ["data_schema", "properties", "a", "type"]),
        (
            {"properties": {"a": {"$ref": "#/$defs/Nope"}}},
            ["data_schema", "properties", "a", "$ref"],
        ),
        ({"properties": {"a": {"type": "array"}}}, ["data_schema", "properties", "a", "items"]),
        ({"properties": {"a": {}}, "required": ["b"]}, ["data_schema", "required"]),
    ],
)
def test_bad_schemas_are_reported_with_a_location(schema: Any, loc: list[str]) -> None:
    with pytest.raises(SchemaError) as info:
        check_schema(schema)
    assert info.value.detail[0]["loc"] == loc
    assert set(info.value.detail[0]) == {"type", "loc", "msg", "input"}


def test_recursive_schema_compiles() -> None:
    schema = {
        "type": "object",
        "properties": {"node": {"$ref": "#/$defs/Node"}},
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "child": {"$ref": "#/$defs/Node"}},
            }
        },
    }
    assert compile_schema(schema).properties["node"].properties["child"].kind == "object"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Issued March 5, 2024", "2024-03-05"),
        ("5 Mar 2024", "2024-03-05"),
        ("2024-03-05", "2024-03-05"),
        ("25/12/2023", "2023-12-25"),
        ("12/25/2023", "2023-12-25"),
        ("03-Jan-2022", "2022-01-03"),
        ("no date here", None),
    ],
)
def test_dates_are_normalised_to_iso(text: str, iso: str | None) -> None:
    found = find_date(text)
    assert (found[0] if found else None) == iso


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("Total  $1,234.50", 1234.5, "USD"),
        ("1.234,50 EUR", 1234.5, "EUR"),
        ("€ 99", 99.0, "EUR"),
        ("(12.00)", -12.0, None),
        ("Subtotal 10.00 Total 12.00", 12.0, None),
        ("Due 2024-01-05: 40.00", 40.0, None),
    ],
)
def test_amounts_and_currencies(text: str, value: float, currency: str | None) -> None:
    found = find_amount(text)
    assert found is not None and found[0] == value and found[2] == currency


@pytest.mark.parametrize(
    ("text", "flag"), [("Yes", True), ("☑", True), ("no", False), ("maybe", None)]
)
def test_booleans(text: str, flag: bool | None) -> None:
    assert parse_bool(text) is flag


def _row_width(pages: Pages) -> float:
    """The width of the invoice's line-item table (its row bands are this wide)."""
    for page in pages:
        for item in getattr(page, "items", []):
            if item.type == "table" and item.bbox:
                return float(item.bbox[0].w)
    raise AssertionError("no table in the invoice")


def test_table_values_cite_their_cell_with_cell_bboxes(
    parsed: dict[str, Pages], parsed_cells: dict[str, Pages], assert_cites: Cites
) -> None:
    width = _row_width(parsed_cells["invoice"])
    out = extract_local(parsed_cells["invoice"], invoice_schema())
    assert out.data == extract_local(parsed["invoice"], invoice_schema()).data
    meta = out.field_metadata["document_metadata"]
    cited = [
        (meta["line_items"][1]["amount"], "$300.00"),
        (meta["line_items"][0]["description"], INVOICE_ITEMS[0]["description"]),
        (meta["total"], "$1,234.50"),
        (meta["subtotal"], "$1,100.00"),
        (meta["tax"], "$134.50"),
    ]
    for field_meta, text in cited:
        box = field_meta["citation"][0]["bounding_boxes"][0]
        assert box["w"] < width / 2, (text, box, width)
        assert_cites("invoice", field_meta, text)
    # Parsed without cell boxes (a pjb- job's stored items), the row band is cited as before.
    plain = extract_local(parsed["invoice"], invoice_schema()).field_metadata
    band = plain["document_metadata"]["line_items"][1]["amount"]["citation"][0]
    assert band["bounding_boxes"][0]["w"] == pytest.approx(_row_width(parsed["invoice"]), abs=1)
