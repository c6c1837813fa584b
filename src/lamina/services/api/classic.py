"""The classic LlamaParse API (``/api/parsing/...`` and ``/api/v1/parsing/...``) over Parse v2.

A translation layer, nothing more: an upload becomes an ordinary Parse v2 job (same table,
queue, cache and result files; ``raw_parameters`` keep the classic form), and the classic
result shapes are built from that job's result files when asked for:

- status: ``PENDING`` (pending or running), ``SUCCESS``, ``ERROR``, ``CANCELLED``;
- ``result/markdown`` → ``{markdown, job_metadata}``: ``markdown_full``, whose page options
  (``page_separator``, default ``"\\n---\\n"`` as the classic API had, prefix, suffix, failed
  page mode) the translation passed on;
- ``result/text`` → ``{text, job_metadata}``: the pages' text joined the same way;
- ``result/json`` → ``{pages, job_metadata}``: per page ``page`` (1-based), ``text``, ``md``,
  ``images``, ``items`` (``bBox``, ``lvl``, ``rows``), ``width``, ``height``, ``status``...;
- ``result/image/{name}``: an image named in the JSON; page screenshots are listed as
  ``page_{n}.jpg`` (the name the classic client recognises as a screenshot) and sent as JPEG.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from lamina.services.api.classic_options import ClassicUpload
from lamina.services.api.page_output import PageOutputOptions
from lamina.services.api.parse import ParseService
from lamina.services.errors import NotFoundError
from lamina.services.store.db import Row
from lamina.services.store.storage import (
    IMAGES_DIR,
    IMAGES_INDEX_FILE,
    JOB_METADATA_FILE,
    RESULT_FILES,
    Storage,
)
from lamina.types import ParseConfiguration, ParseCreateRequest

CLASSIC_STATUS = {
    "PENDING": "PENDING",
    "RUNNING": "PENDING",
    "COMPLETED": "SUCCESS",
    "FAILED": "ERROR",
    "CANCELLED": "CANCELLED",
}
NO_DATA_ERROR = "NO_DATA_FOUND_IN_FILE"
_SCREENSHOT = re.compile(r"^page_(\d+)\.jpg$")


def classic_error_code(row: Row) -> str | None:
    """The classic ``error_code`` of a failed job (None unless it failed)."""
    if row["status"] != "FAILED":
        return None
    message = (row.get("error_message") or "").lower()
    if "selects no page" in message:  # the classic client stops paging on this code
        return NO_DATA_ERROR
    return "PARSE_FAILED"


def classic_error_message(row: Row) -> str | None:
    """The job's error, noting the classic 0-based ``target_pages`` when the error names the
    translated (1-based) selection."""
    message = row.get("error_message")
    sent = (row.get("raw_parameters") or {}).get("target_pages")
    if message and sent and "target_pages" in message:
        return f"{message} (classic target_pages {sent!r} is 0-based)"
    return message


def status_body(row: Row) -> dict[str, Any]:
    """The classic ``ParsingJob``: ``{id, status, error_code, error_message}``."""
    return {
        "id": row["id"],
        "status": CLASSIC_STATUS.get(row["status"], "ERROR"),
        "error_code": classic_error_code(row),
        "error_message": classic_error_message(row),
    }


@dataclass(frozen=True)
class ImageFile:
    """Bytes to send for a classic image name."""

    data: bytes
    media_type: str


def _union_box(boxes: Any) -> dict[str, float] | None:
    if not boxes:
        return None
    left = min(b["x"] for b in boxes)
    top = min(b["y"] for b in boxes)
    right = max(b["x"] + b["w"] for b in boxes)
    bottom = max(b["y"] + b["h"] for b in boxes)
    return {"x": left, "y": top, "w": right - left, "h": bottom - top}


def _plain(item: dict[str, Any]) -> str:
    if "value" in item:
        return str(item["value"])
    if item.get("type") == "list":
        return "\n".join(_plain(entry) for entry in item.get("items", []))
    return str(item.get("text") or item.get("md") or "")


def classic_item(item: dict[str, Any]) -> dict[str, Any] | None:
    """One v2 item → a classic page item (None for kinds the classic JSON keeps elsewhere)."""
    kind = item.get("type")
    box = _union_box(item.get("bbox"))
    if kind == "heading":
        out: dict[str, Any] = {"type": "heading", "lvl": item.get("level"), "value": item["value"]}
    elif kind == "table":
        out = {
            "type": "table",
            "rows": item.get("rows", []),
            "csv": item.get("csv", ""),
            "html": item.get("html", ""),
            "isPerfectTable": not item.get("parse_concerns"),
        }
    elif kind in ("text", "code", "list"):
        out = {"type": "text", "value": _plain(item)}
    else:  # images, links, headers and footers have their own places in a classic page
        return None
    out["md"] = item.get("md", "")
    if box is not None:
        out["bBox"] = box
    return out


def _links(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"text": i.get("text", ""), "url": i.get("url", "")}
        for i in items
        if i.get("type") == "link"
    ]


class ClassicParseService:
    """Classic upload, status and results, over :class:`ParseService` and its result files."""

    def __init__(self, parse: ParseService, storage: Storage) -> None:
        self.parse = parse
        self.storage = storage

    def request_of(self, upload: ClassicUpload) -> ParseCreateRequest:
        """The v2 create request of a translated upload (422 on a value v2 refuses)."""
        from pydantic import ValidationError

        from lamina.services.errors import ValidationFailed, validation_errors

        try:
            request = ParseCreateRequest.model_validate(upload.body)
        except ValidationError as exc:
            raise ValidationFailed(validation_errors(exc, [])) from exc
        self.parse.validate_options(request)
        return request

    def create(
        self,
        project_id: str,
        upload: ClassicUpload,
        request: ParseCreateRequest,
        uploaded_file: Row | None,
    ) -> Row:
        raw = {**upload.raw, "classic": True}
        return self.parse.create(project_id, request, raw, uploaded_file=uploaded_file)

    def status(self, project_id: str, job_id: str) -> dict[str, Any]:
        return status_body(self.parse.get_row(project_id, job_id))

    def _completed(self, project_id: str, job_id: str) -> Row:
        row = self.parse.get_row(project_id, job_id)
        if row["status"] != "COMPLETED":
            body = status_body(row)
            raise NotFoundError(
                f"Job {job_id} has no result: its status is {body['status']}"
                + (f" ({row['error_message']})" if row.get("error_message") else "")
            )
        return row

    def _job_metadata(self, row: Row) -> dict[str, Any]:
        stored = self.storage.read_result_json(row["id"], JOB_METADATA_FILE) or {}
        return {
            "credits_used": 0.0,
            "job_credits_usage": 0,
            "job_pages": int(stored.get("pages_parsed") or 0),
            "job_auto_mode_triggered_pages": 0,
            "job_is_cache_hit": bool(stored.get("cache_hit")),
        }

    def _options(self, row: Row) -> PageOutputOptions:
        config = ParseConfiguration.model_validate(row["configuration"] or {"tier": row["tier"]})
        return PageOutputOptions.from_config(config)

    def markdown(self, project_id: str, job_id: str) -> dict[str, Any]:
        row = self._completed(project_id, job_id)
        text = self.storage.read_result_text(job_id, RESULT_FILES["markdown_full"][0]) or ""
        return {"markdown": text, "job_metadata": self._job_metadata(row)}

    def text(self, project_id: str, job_id: str) -> dict[str, Any]:
        row = self._completed(project_id, job_id)
        return {"text": self._joined_text(row), "job_metadata": self._job_metadata(row)}

    def raw_markdown(self, project_id: str, job_id: str) -> str:
        self._completed(project_id, job_id)
        return self.storage.read_result_text(job_id, RESULT_FILES["markdown_full"][0]) or ""

    def raw_text(self, project_id: str, job_id: str) -> str:
        return self._joined_text(self._completed(project_id, job_id))

    def _joined_text(self, row: Row) -> str:
        options = self._options(row)
        pages = (self.storage.read_result_json(row["id"], RESULT_FILES["text"][0]) or {}).get(
            "pages", []
        )
        failed = set(
            (self.storage.read_result_json(row["id"], JOB_METADATA_FILE) or {}).get(
                "failed_pages", []
            )
        )
        parts: list[str] = []
        for page in pages:
            number = page["page_number"]
            if number in failed:
                continue
            tag = str(number)
            if parts:
                parts.append(options.separator.replace("{pageNumber}", tag))
            parts.append(
                options.prefix.replace("{pageNumber}", tag)
                + page.get("text", "")
                + options.suffix.replace("{pageNumber}", tag)
            )
        return "".join(parts)

    def json(self, project_id: str, job_id: str) -> dict[str, Any]:
        row = self._completed(project_id, job_id)
        read = self.storage.read_result_json
        markdown = {
            p["page_number"]: p for p in (read(job_id, "markdown.json") or {}).get("pages", [])
        }
        texts = {p["page_number"]: p for p in (read(job_id, "text.json") or {}).get("pages", [])}
        items = {p["page_number"]: p for p in (read(job_id, "items.json") or {}).get("pages", [])}
        metadata = {
            p["page_number"]: p for p in (read(job_id, "metadata.json") or {}).get("pages", [])
        }
        images_by_page: dict[int, list[dict[str, Any]]] = {}
        for image in self._classic_images(row):
            images_by_page.setdefault(image.pop("_page"), []).append(image)
        pages = []
        for number in sorted(markdown or texts):
            md_page = markdown.get(number, {})
            item_page = items.get(number, {})
            meta = metadata.get(number, {})
            raw_items = item_page.get("items", [])
            text = texts.get(number, {}).get("text", "")
            ok = md_page.get("success", True) is not False
            page: dict[str, Any] = {
                "page": number,
                "text": text,
                "md": md_page.get("markdown", "") if ok else "",
                "images": images_by_page.get(number, []),
                "charts": [],
                "tables": [],
                "layout": [],
                "items": [c for c in (classic_item(i) for i in raw_items) if c is not None],
                "status": "OK" if ok else "ERROR",
                "links": _links(raw_items),
                "width": item_page.get("page_width"),
                "height": item_page.get("page_height"),
                "triggeredAutoMode": False,
                "parsingMode": row["tier"],
                "structuredData": None,
                "noStructuredContent": True,
                "noTextContent": not text.strip(),
                "confidence": meta.get("confidence"),
                "printedPageNumber": meta.get("printed_page_number"),
                "pageHeaderMarkdown": md_page.get("header"),
                "pageFooterMarkdown": md_page.get("footer"),
            }
            if not ok:
                page["error"] = md_page.get("error")
            pages.append(page)
        return {"pages": pages, "job_metadata": self._job_metadata(row)}

    def _pages(self, job_id: str, expand: str) -> dict[int, dict[str, Any]]:
        """A result file's pages by page number."""
        stored = self.storage.read_result_json(job_id, RESULT_FILES[expand][0]) or {}
        return {page["page_number"]: page for page in stored.get("pages", [])}

    def _classic_images(self, row: Row) -> list[dict[str, Any]]:
        index = self.storage.read_result_json(row["id"], IMAGES_INDEX_FILE) or []
        out = []
        for image in index:
            name = self._classic_name(image)
            box = image.get("bbox") or {}
            size = self._pixel_size(row["id"], image["filename"])
            out.append(
                {
                    "_page": image.get("page_number"),
                    "name": name,
                    "x": box.get("x", 0.0),
                    "y": box.get("y", 0.0),
                    "width": box.get("w"),
                    "height": box.get("h"),
                    "original_width": size[0] if size else None,
                    "original_height": size[1] if size else None,
                    "type": "full_page_screenshot"
                    if image.get("category") == "screenshot"
                    else None,
                }
            )
        return out

    @staticmethod
    def _classic_name(image: dict[str, Any]) -> str:
        if image.get("category") == "screenshot" and image.get("page_number"):
            return f"page_{image['page_number']}.jpg"
        return str(image["filename"])

    def _pixel_size(self, job_id: str, filename: str) -> tuple[int, int] | None:
        from PIL import Image, UnidentifiedImageError

        path = self.storage.result_path(job_id, f"{IMAGES_DIR}/{filename}")
        if path is None or not path.is_file():
            return None
        try:
            with Image.open(path) as image:  # reads the header only
                return int(image.width), int(image.height)
        except (OSError, UnidentifiedImageError):
            return None

    def image(self, project_id: str, job_id: str, name: str) -> ImageFile:
        """The bytes of an image the JSON result names (404 for any other name)."""
        row = self._completed(project_id, job_id)
        index = self.storage.read_result_json(job_id, IMAGES_INDEX_FILE) or []
        for image in index:
            if self._classic_name(image) != name:
                continue
            path = self.storage.result_path(job_id, f"{IMAGES_DIR}/{image['filename']}")
            if path is None or not path.is_file():
                break
            data = path.read_bytes()
            if _SCREENSHOT.match(name) and image.get("content_type") != "image/jpeg":
                return ImageFile(_to_jpeg(data), "image/jpeg")
            return ImageFile(data, str(image.get("content_type") or "image/png"))
        raise NotFoundError(f"Image not found in job {row['id']}: {name}")


def _to_jpeg(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=90)
        return out.getvalue()
