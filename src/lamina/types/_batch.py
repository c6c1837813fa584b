"""Wire models of directories, batch processing (v1 beta, the seed) and batches (v2, the SDK)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lamina.types._base import WireModel
from lamina.types._common import PresignedURL, WireTime

BatchJobType = Literal["parse", "extract", "classify"]
BatchJobStatus = Literal["pending", "running", "dispatched", "completed", "failed", "cancelled"]
BatchItemStatus = Literal["pending", "processing", "completed", "failed", "skipped", "cancelled"]
BATCH_JOB_STATUSES: tuple[str, ...] = (
    "pending",
    "running",
    "dispatched",
    "completed",
    "failed",
    "cancelled",
)
BATCH_ITEM_STATUSES: tuple[str, ...] = (
    "pending",
    "processing",
    "completed",
    "failed",
    "skipped",
    "cancelled",
)
BATCH_TERMINAL_STATUSES: tuple[str, ...] = ("completed", "failed", "cancelled")
ClassifyMode = Literal["FAST", "MULTIMODAL"]


# --- directories ----------------------------------------------------------------------------------


class Directory(WireModel):
    """A directory: a named set of files that a batch can process."""

    id: str
    name: str
    project_id: str
    connector_subscription_id: str | None = None
    created_at: WireTime | None = None
    deleted_at: WireTime | None = None
    description: str | None = None
    expires_at: WireTime | None = None
    system_metadata: dict[str, Any] | None = None
    type: Literal["ephemeral", "index", "user"] | None = None
    updated_at: WireTime | None = None


class DirectoryFile(WireModel):
    """A file in a directory (its own id; ``file_id`` names the stored upload)."""

    id: str
    directory_id: str
    display_name: str
    project_id: str
    unique_id: str
    created_at: WireTime | None = None
    deleted_at: WireTime | None = None
    download_url: PresignedURL | None = None
    file_id: str | None = None
    metadata: dict[str, Any] | None = None
    updated_at: WireTime | None = None


# --- batch processing (v1 beta) -------------------------------------------------------------------


class ClassifierRule(WireModel):
    """A document type and a natural-language description of what identifies it."""

    type: str
    description: str


class ClassifyParsingConfiguration(WireModel):
    lang: str | None = None
    max_pages: int | None = None
    target_pages: list[int] | None = None


class BatchWebhookConfiguration(WireModel):
    webhook_url: str | None = None
    webhook_events: list[str] | None = None
    webhook_headers: dict[str, str] | None = None
    webhook_output_format: str | None = None
    webhook_signing_secret: str | None = None


class BatchJob(WireModel):
    """A batch processing job with its item counts (``BatchCreateResponse`` and friends)."""

    id: str
    job_type: BatchJobType
    project_id: str
    status: BatchJobStatus
    total_items: int
    completed_at: WireTime | None = None
    created_at: WireTime | None = None
    directory_id: str | None = None
    effective_at: WireTime | None = None
    error_message: str | None = None
    failed_items: int | None = None
    job_record_id: str | None = None
    processed_items: int | None = None
    skipped_items: int | None = None
    started_at: WireTime | None = None
    updated_at: WireTime | None = None
    workflow_id: str | None = None

    @property
    def done(self) -> bool:
        """True once the batch reached a terminal status."""
        return self.status in BATCH_TERMINAL_STATUSES


class BatchJobStatusResponse(WireModel):
    """``GET /api/v1/beta/batch-processing/{job_id}``."""

    job: BatchJob
    progress_percentage: float


class BatchCancelResponse(WireModel):
    job_id: str
    message: str
    processed_items: int
    status: BatchJobStatus


class BatchItem(WireModel):
    """One item of a batch job."""

    item_id: str
    item_name: str
    status: BatchItemStatus
    completed_at: WireTime | None = None
    effective_at: WireTime | None = None
    error_message: str | None = None
    job_id: str | None = None
    job_record_id: str | None = None
    skip_reason: str | None = None
    started_at: WireTime | None = None


class BatchItemList(WireModel):
    items: list[BatchItem] = Field(default_factory=list)
    next_page_token: str | None = None
    total_size: int | None = None


class BatchJobList(WireModel):
    items: list[BatchJob] = Field(default_factory=list)
    next_page_token: str | None = None
    total_size: int | None = None


class ProcessingResult(WireModel):
    """One operation performed on an item (parse or classify)."""

    item_id: str
    job_config: dict[str, Any]
    job_type: BatchJobType
    output_s3_path: str
    parameters_hash: str
    processed_at: WireTime
    result_id: str
    output_metadata: Any = None


class ItemProcessingResults(WireModel):
    item_id: str
    item_name: str
    processing_results: list[ProcessingResult] | None = None


# --- batches (v2, the SDK) ------------------------------------------------------------------------


class BatchV2JobConfig(WireModel):
    type: Literal["parse_v2", "extract_v2"]
    configuration_id: str | None = None


class BatchV2Config(WireModel):
    job: BatchV2JobConfig


class BatchV2JobReference(WireModel):
    id: str
    type: Literal["parse_v2", "extract_v2"]


class BatchV2Result(WireModel):
    source_directory_file_id: str
    error_message: str | None = None
    job_reference: BatchV2JobReference | None = None


class BatchV2(WireModel):
    """``/api/v2/batches`` batch object."""

    id: str
    config: BatchV2Config
    project_id: str
    source_directory_id: str
    status: Literal["CANCELLED", "COMPLETED", "FAILED", "PENDING", "RUNNING", "THROTTLED"]
    created_at: WireTime | None = None
    updated_at: WireTime | None = None
    results: list[BatchV2Result] | None = None
