"""Batch processing: constants, parameter helpers and the wire shapes of batches, items and
results (rows → wire models). See :mod:`lamina.services.batch.service` for how batches run."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lamina._version import ENGINE_VERSION
from lamina.services.errors import ValidationFailed
from lamina.services.outbound import OutboundPolicy
from lamina.services.request_limits import RequestLimits
from lamina.services.store.db import (
    Row,
    aware,
)
from lamina.services.store.tables import batch_items_table
from lamina.types import (
    TIERS,
    BatchItem,
    BatchJob,
    BatchV2,
    BatchV2Config,
    BatchV2JobConfig,
    BatchV2Result,
    ProcessingResult,
)

log = logging.getLogger("lamina.batch")

BATCH_ID_PREFIX = "bjb"
ACTIVE = ("pending", "running", "dispatched")
CLASSIFY_MODES = ("FAST", "MULTIMODAL")
CLASSIFY_DEFAULT_MAX_PAGES = 10
CLASSIFICATION_FILE = "classification.json"
INSERT_CHUNK = 1000
SYNC_WINDOW = 500
# v1 parse modes that need a model.
_MODEL_PARSE_MODES = {
    "parse_page_with_llm",
    "parse_page_with_lvm",
    "parse_page_with_agent",
    "parse_page_with_layout_agent",
    "parse_document_with_llm",
    "parse_document_with_lvm",
    "parse_document_with_agent",
}
# v2 batch statuses.
V2_STATUS = {
    "pending": "PENDING",
    "running": "RUNNING",
    "dispatched": "RUNNING",
    "completed": "COMPLETED",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
}
V2_STATUS_IN = {
    "PENDING": ["pending"],
    "RUNNING": ["running", "dispatched"],
    "COMPLETED": ["completed"],
    "FAILED": ["failed"],
    "CANCELLED": ["cancelled"],
    "THROTTLED": [],
}


def parameters_hash(job_type: str, spec: Mapping[str, Any]) -> str:
    """Content hash of what determines an item's output (job type, settings, engine)."""
    canonical = json.dumps(
        {"job_type": job_type, "spec": spec, "engine": ENGINE_VERSION},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def one_based_pages(value: Any) -> str | None:
    """v1 ``target_pages`` (0-based, ``"0,2-4"`` or a list) → v2's 1-based comma list."""
    if value is None or value == "":
        return None
    parts = value if isinstance(value, list) else str(value).split(",")
    out = []
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        try:
            if "-" in text:
                low, high = text.split("-", 1)
                out.append(f"{int(low) + 1}-{int(high) + 1}")
            else:
                out.append(str(int(text) + 1))
        except ValueError as exc:
            raise ValidationFailed.single(
                ["job_config", "parameters", "target_pages"],
                f"Invalid target_pages: {value}",
                input=value,
            ) from exc
    return ",".join(out) or None


def parse_configuration_from_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The v1 batch ``parameters`` → a Parse v2 configuration.

    Honoured: ``tier`` (else ``fast_mode`` → fast, ``premium_mode`` / an LLM ``parse_mode`` →
    agentic, else cost_effective), ``version``, ``max_pages``, ``target_pages`` (0-based),
    ``disable_ocr``, ``languages``, ``annotate_links``, ``images_to_save``,
    ``extract_printed_page_number``, ``aggressive_table_extraction``,
    ``job_timeout_in_seconds``. Every other parameter is kept in the job config and ignored.
    """
    tier = params.get("tier")
    if not tier:
        if params.get("fast_mode"):
            tier = "fast"
        elif params.get("premium_mode") or params.get("parse_mode") in _MODEL_PARSE_MODES:
            tier = "agentic"
        else:
            tier = "cost_effective"
    config: dict[str, Any] = {"tier": tier, "version": params.get("version") or "latest"}
    ranges = {
        "max_pages": params.get("max_pages"),
        "target_pages": one_based_pages(params.get("target_pages")),
    }
    ranges = {k: v for k, v in ranges.items() if v is not None}
    if ranges:
        config["page_ranges"] = ranges
    if params.get("disable_ocr") is not None:
        config["disable_ocr"] = bool(params["disable_ocr"])
    processing: dict[str, Any] = {}
    if params.get("languages"):
        processing["ocr_parameters"] = {"languages": list(params["languages"])}
    if params.get("aggressive_table_extraction") is not None:
        processing["aggressive_table_extraction"] = bool(params["aggressive_table_extraction"])
    if processing:
        config["processing_options"] = processing
    output: dict[str, Any] = {}
    if params.get("annotate_links") is not None:
        output["markdown"] = {"annotate_links": bool(params["annotate_links"])}
    if params.get("images_to_save"):
        output["images_to_save"] = list(params["images_to_save"])
    if params.get("extract_printed_page_number") is not None:
        output["extract_printed_page_number"] = bool(params["extract_printed_page_number"])
    if output:
        config["output_options"] = output
    if params.get("job_timeout_in_seconds"):
        seconds = max(1, min(int(params["job_timeout_in_seconds"]), 7200))
        config["processing_control"] = {"timeouts": {"base_in_seconds": seconds}}
    return config


def is_preset(configuration_id: str) -> bool:
    """A built-in parse preset (a tier, or ``cfg-PARSE_<TIER>``) rather than a saved id."""
    preset = configuration_id.strip()
    tier = preset.lower().removeprefix("cfg-").removeprefix("parse_").removeprefix("parse-")
    return tier in TIERS


def v2_configuration(job: Mapping[str, Any]) -> dict[str, Any]:
    """A v2 batch's ``config.job`` → a Parse v2 configuration.

    ``configuration_id`` names a built-in preset: a tier (``fast``, ``cost_effective``, ...) or
    ``cfg-PARSE_<TIER>``. An inline ``configuration`` object (a Lamina extension) wins.
    """
    if isinstance(job.get("configuration"), Mapping):
        config = dict(job["configuration"])
        config.setdefault("version", "latest")
        return config
    preset = str(job.get("configuration_id") or "").strip()
    tier = preset.lower().removeprefix("cfg-").removeprefix("parse_").removeprefix("parse-")
    if tier not in TIERS:
        raise ValidationFailed.single(
            ["config", "job", "configuration_id"],
            f"Unknown configuration_id: {preset}. Use a saved parse_v2 configuration or a "
            f"built-in preset: one of {', '.join(TIERS)} (or cfg-PARSE_<TIER>)",
            input=preset,
        )
    return {"tier": tier, "version": "latest"}


@dataclass(frozen=True)
class BatchLimits:
    """Per-server batch settings."""

    max_concurrency: int = 16
    max_file_bytes: int | None = None
    model_url: str | None = None
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    """Where webhooks may be delivered (checked at create time for literal addresses)."""
    requests: RequestLimits = field(default_factory=RequestLimits)
    """Caps on ``item_ids`` and the stored job configuration."""


# --- wire shapes ---------------------------------------------------------------------------------


def counts_of(conn: Connection, batch_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Items per status of each batch (one ``GROUP BY``)."""
    c = batch_items_table.c
    out: dict[str, dict[str, int]] = {bid: {} for bid in batch_ids}
    if not batch_ids:
        return out
    query = (
        sa.select(c.batch_id, c.status, sa.func.count())
        .where(c.batch_id.in_(list(batch_ids)))
        .group_by(c.batch_id, c.status)
    )
    for batch_id, status, count in conn.execute(query):
        out[batch_id][status] = int(count)
    return out


def processed_count(counts: Mapping[str, int]) -> int:
    """Items whose processing is over: completed, failed or skipped."""
    return sum(counts.get(s, 0) for s in ("completed", "failed", "skipped"))


def to_batch_job(row: Row, counts: Mapping[str, int]) -> BatchJob:
    """A batch record as the API's BatchJob (``BatchCreateResponse``, a list item, the ``job``
    of the status): every field set, as the wire has them."""
    return BatchJob(
        id=row["id"],
        job_type=row["job_type"],
        project_id=row["project_id"],
        status=row["status"],
        total_items=row["total_items"],
        completed_at=aware(row["completed_at"]),
        created_at=aware(row["created_at"]),
        directory_id=row["directory_id"],
        effective_at=aware(row["updated_at"]),
        error_message=row["error_message"],
        failed_items=counts.get("failed", 0),
        job_record_id=None,
        processed_items=processed_count(counts),
        skipped_items=counts.get("skipped", 0),
        started_at=aware(row["started_at"]),
        updated_at=aware(row["updated_at"]),
        workflow_id=row["id"],
    )


def batch_event_data(row: Row, counts: Mapping[str, int]) -> dict[str, Any]:
    """The ``data`` of a batch webhook event: the batch job's JSON."""
    return to_batch_job(row, counts).model_dump(mode="json")


def progress_of(row: Row, counts: Mapping[str, int]) -> float:
    """Percentage of items no longer waiting or running (0-100)."""
    total = row["total_items"]
    if not total:
        return 100.0 if row["status"] in ("completed", "failed", "cancelled") else 0.0
    done = processed_count(counts) + counts.get("cancelled", 0)
    return round(100.0 * done / total, 2)


def to_batch_item(row: Row) -> BatchItem:
    return BatchItem(
        item_id=row["item_id"],
        item_name=row["item_name"],
        status=row["status"],
        completed_at=aware(row["completed_at"]),
        effective_at=aware(row["updated_at"]),
        error_message=row["error_message"],
        job_id=row["job_id"],
        job_record_id=None,
        skip_reason=row["skip_reason"],
        started_at=aware(row["started_at"]),
    )


def to_processing_result(row: Row) -> ProcessingResult:
    return ProcessingResult(
        item_id=row["item_id"],
        job_config=row["job_config"],
        job_type=row["job_type"],
        output_s3_path=row["output_path"],
        parameters_hash=row["parameters_hash"],
        processed_at=aware(row["processed_at"]),
        result_id=row["id"],
        output_metadata=row["output_metadata"],
    )


def to_batch_v2(row: Row, results: list[BatchV2Result] | None = None) -> BatchV2:
    """A batch record as the SDK's batch; ``results`` only when asked for (unset otherwise)."""
    config = row["job_config"].get("config") or {}
    job = config.get("job") or {}
    batch = BatchV2(
        id=row["id"],
        config=BatchV2Config(
            job=BatchV2JobConfig(
                type=job.get("type", "parse_v2"),
                configuration_id=job.get("configuration_id")
                or (row["parse_configuration"] or {}).get("tier"),
            )
        ),
        project_id=row["project_id"],
        source_directory_id=row["directory_id"],
        status=V2_STATUS[row["status"]],
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
    )
    if results is not None:
        batch.results = results
    return batch


def event_name(row: Row, status: str, counts: Mapping[str, int] | None = None) -> str:
    """The webhook event of a batch status change (``parse.success``, ``batch.running``...)."""
    prefix = "batch" if row["api"] == "v2" else row["job_type"]
    if status == "completed":
        failed = (counts or {}).get("failed", 0)
        return f"{prefix}.partial_success" if failed else f"{prefix}.success"
    suffix = {"failed": "error", "cancelled": "cancelled", "running": "running"}.get(status)
    return f"{prefix}.{suffix or status}"
