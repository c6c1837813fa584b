"""Wire models: every shape of the parse seed reads, unknown fields survive, strict mode bites."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lamina.types import (
    HeadingItem,
    ListItem,
    ParseResponse,
    TableItem,
    TextItem,
    UnknownItem,
    strict_validate,
)

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "parse-v2-get-job-reference.md"


def _seed_example() -> dict[str, object]:
    text = SEED.read_text(encoding="utf-8")
    block = re.search(r"#### Response\s+```json\n(.*?)```", text, re.S)
    assert block, "the seed's example response was not found"
    data: dict[str, object] = json.loads(block.group(1))
    return data


@pytest.mark.skipif(not SEED.exists(), reason="shared/ seeds not beside the checkout")
def test_seed_example_response_validates_strictly() -> None:
    response = strict_validate(ParseResponse, _seed_example())
    assert response.job.id.startswith("pjb-")
    assert response.items is not None and response.markdown is not None
    assert isinstance(response.items.pages[0].items[0], TextItem)  # type: ignore[union-attr]
    assert response.result_content_metadata["foo"].exists is True  # type: ignore[index]


def test_item_union_nested_lists_and_unknown_kinds() -> None:
    page = {
        "page_number": 1,
        "success": True,
        "page_width": 612,
        "page_height": 792,
        "items": [
            {"type": "heading", "level": 2, "md": "## A", "value": "A"},
            {
                "type": "list",
                "ordered": False,
                "md": "- a\n  1. b",
                "items": [
                    {"type": "text", "md": "a", "value": "a"},
                    {
                        "type": "list",
                        "ordered": True,
                        "md": "1. b",
                        "items": [{"type": "text", "md": "b", "value": "b"}],
                    },
                ],
            },
            {
                "type": "table",
                "md": "|a|\n|-|\n|1|",
                "rows": [["a"], [1.0], [None]],
                "csv": "a\n1\n",
                "html": "<table></table>",
            },
            {"type": "hologram", "md": "?", "depth": 3},
        ],
    }
    response = ParseResponse.model_validate(
        {
            "job": {"id": "pjb-1", "project_id": "p", "status": "COMPLETED"},
            "items": {"pages": [page, {"page_number": 2, "success": False, "error": "boom"}]},
        }
    )
    assert response.items is not None
    first = response.items.pages[0]
    items = first.items  # type: ignore[union-attr]
    assert isinstance(items[0], HeadingItem) and items[0].level == 2
    assert isinstance(items[1], ListItem) and isinstance(items[1].items[1], ListItem)
    assert isinstance(items[2], TableItem) and items[2].rows[2] == [None]
    assert isinstance(items[3], UnknownItem) and items[3].model_extra == {"depth": 3}
    assert response.items.pages[1].success is False


def test_unknown_fields_are_kept_on_read_and_rejected_by_strict_validate() -> None:
    data = {"job": {"id": "pjb-1", "project_id": "p", "status": "RUNNING", "shiny": 1}}
    response = ParseResponse.model_validate(data)
    assert response.job.model_extra == {"shiny": 1}
    assert response.model_dump()["job"]["shiny"] == 1
    with pytest.raises(ValueError, match="shiny"):
        strict_validate(ParseResponse, data)


def test_a_stored_configuration_is_written_back_key_for_key() -> None:
    """A configuration read from the mapping the server stored writes the same JSON (key order,
    unknown keys, left-out fields), at every depth; one built in code uses the declared order."""
    from lamina.types import ClassifyConfiguration

    stored = {
        "mode": "FAST",
        "custom": {"b": 1, "a": 2},
        "rules": [{"type": "invoice", "description": "has a total"}],
        "parsing_configuration": {"target_pages": "1-2", "lang": "en"},
    }
    config = ClassifyConfiguration.model_validate(stored)
    assert config.parsing_configuration is not None
    assert config.parsing_configuration.target_pages == "1-2"
    written = config.model_dump_json(exclude_unset=True)
    assert written == json.dumps(stored, separators=(",", ":"))
    again = ClassifyConfiguration.model_validate_json(written)
    assert again.model_dump_json(exclude_unset=True) == written

    built = ClassifyConfiguration(mode="FAST", rules=config.rules)
    assert list(built.model_dump(exclude_unset=True)) == ["mode", "rules"]  # as given
    schema = ClassifyConfiguration.model_json_schema(mode="serialization")
    assert set(schema["properties"]) == {"rules", "mode", "parsing_configuration"}
