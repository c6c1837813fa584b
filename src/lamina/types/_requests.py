"""Request bodies of the directories and batch routes, typed so malformed input is a 422 at
the door (and the OpenAPI document describes every body, so fuzzing reaches the services).

Unknown fields are accepted and kept (the v1 batch ``parameters`` have 125 of them); the fields
Lamina reads are typed. Semantic checks (tiers, webhook addresses, sizes) stay in the services.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Discriminator, Field, Tag

from lamina.types._base import WireModel
from lamina.types._batch import (
    BatchWebhookConfiguration,
    ClassifierRule,
    ClassifyParsingConfiguration,
)

# --- directories ----------------------------------------------------------------------------


class DirectoryCreateRequest(WireModel):
    """Body of ``POST /api/v1/beta/directories``."""

    name: str = Field(description="Directory name.")
    description: str | None = None
    type: str | None = Field(default=None, description="user (default) or ephemeral.")
    connector_subscription_id: str | None = None
    system_metadata: dict[str, Any] | None = None


class DirectoryUpdateRequest(WireModel):
    """Body of ``PATCH /api/v1/beta/directories/{directory_id}``."""

    name: str | None = None
    description: str | None = None


class DirectoryFileAddRequest(WireModel):
    """Body of ``POST /api/v1/beta/directories/{directory_id}/files``."""

    file_id: str = Field(description="An uploaded file (dfl-...).")
    display_name: str | None = None
    unique_id: str | None = None
    metadata: dict[str, Any] | None = None


class DirectoryFileUpdateRequest(WireModel):
    """Body of ``PATCH /api/v1/beta/directories/{directory_id}/files/{directory_file_id}``."""

    display_name: str | None = None
    unique_id: str | None = None
    metadata: dict[str, Any] | None = Field(
        default=None, description="Replaces the entry's metadata."
    )
    target_directory_id: str | None = Field(
        default=None, description="Move the entry to this directory."
    )


# --- batch processing (v1 beta) ---------------------------------------------------------------


class BatchParseParameters(WireModel):
    """The v1 ``parameters`` Lamina reads, typed; every other parameter is kept as given."""

    tier: str | None = None
    version: str | None = None
    fast_mode: bool | None = None
    premium_mode: bool | None = None
    parse_mode: str | None = None
    max_pages: int | None = Field(default=None, ge=0)
    target_pages: str | list[int] | None = Field(
        default=None, description='0-based pages, "0,2-4" or a list.'
    )
    disable_ocr: bool | None = None
    languages: list[str] | None = None
    lang: str | None = None
    annotate_links: bool | None = None
    images_to_save: list[Literal["embedded", "layout", "screenshot"]] | None = None
    extract_printed_page_number: bool | None = None
    aggressive_table_extraction: bool | None = None
    job_timeout_in_seconds: float | None = Field(default=None, ge=0)
    invalidate_cache: bool | None = None
    do_not_cache: bool | None = None
    webhook_url: str | None = None
    webhook_configurations: list[BatchWebhookConfiguration] | None = None


class BatchParseJobConfig(WireModel):
    """A parse ``job_config`` (``BatchParseJobRecordCreate``)."""

    job_name: str | None = None
    parameters: BatchParseParameters | None = None
    webhook_url: str | None = None
    correlation_id: str | None = None
    session_id: str | None = None
    parent_job_execution_id: str | None = None
    partitions: dict[str, str] | None = None
    project_id: str | None = None
    user_id: str | None = None


class ClassifyJobConfig(WireModel):
    """A classify ``job_config``: rules, mode, parsing configuration."""

    rules: list[ClassifierRule]
    mode: str | None = Field(default=None, description="FAST (default) or MULTIMODAL.")
    parsing_configuration: ClassifyParsingConfiguration | None = None


def _job_config_kind(value: Any) -> str:
    has_rules = isinstance(value, dict) and "rules" in value
    return "classify" if has_rules or isinstance(value, ClassifyJobConfig) else "parse"


BatchJobConfig: TypeAlias = Annotated[
    Annotated[BatchParseJobConfig, Tag("parse")] | Annotated[ClassifyJobConfig, Tag("classify")],
    Discriminator(_job_config_kind),
]


class BatchCreateRequest(WireModel):
    """Body of ``POST /api/v1/beta/batch-processing``: a job config and ``directory_id`` or
    ``item_ids``."""

    job_config: BatchJobConfig
    directory_id: str | None = None
    item_ids: list[str] | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=10_000)
    page_size: int | None = Field(default=None, ge=1)
    continue_as_new_threshold: int | None = Field(default=None, ge=1)
    webhook_configurations: list[BatchWebhookConfiguration] | None = None


class BatchCancelRequest(WireModel):
    """Body of ``POST /api/v1/beta/batch-processing/{job_id}/cancel`` (optional)."""

    reason: str | None = None


# --- batches (v2) -----------------------------------------------------------------------------


class BatchV2JobRequest(WireModel):
    type: str = Field(description="parse_v2 (extract_v2 is not supported yet).")
    configuration_id: str | None = None
    configuration: dict[str, Any] | None = Field(
        default=None, description="An inline Parse v2 configuration (a Lamina extension)."
    )


class BatchV2ConfigRequest(WireModel):
    job: BatchV2JobRequest


class BatchV2CreateRequest(WireModel):
    """Body of ``POST /api/v2/batches``."""

    source_directory_id: str
    config: BatchV2ConfigRequest
    max_concurrency: int | None = Field(default=None, ge=1, le=10_000)
    webhook_configurations: list[BatchWebhookConfiguration] | None = None
    webhook_configuration_ids: list[str] | None = None
