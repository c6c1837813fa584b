"""Extract v2 shapes: the create body, the job, field metadata with citations, schema checks.

Mirrors ``llama_cloud.types.extract_*`` (SDK 2.19.0) and the Extract v2 REST guide. Tiers and
targets are plain strings on the wire models (a newer server may add values); the server checks
them against :data:`EXTRACT_TIERS` and :data:`EXTRACTION_TARGETS`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from pydantic import Field

from lamina.types._base import WireModel
from lamina.types._common import WireTime
from lamina.types._parse import JobStatus, WebhookConfiguration

ExtractTier: TypeAlias = Literal["cost_effective", "agentic", "agentic_plus", "turbo"]
EXTRACT_TIERS: tuple[str, ...] = ("cost_effective", "agentic", "agentic_plus", "turbo")
ExtractionTarget: TypeAlias = Literal["per_doc", "per_page", "per_table_row"]
EXTRACTION_TARGETS: tuple[str, ...] = ("per_doc", "per_page", "per_table_row")
EXTRACT_EXPAND_VALUES: tuple[str, ...] = ("configuration", "extract_metadata", "usage", "metadata")

JsonValue: TypeAlias = Any
"""Any JSON value (the extracted data follows the caller's schema)."""


# --- create body -------------------------------------------------------------------------------


class ExtractConfiguration(WireModel):
    """How to extract: the schema, the tier, and the parse settings used before extraction."""

    data_schema: dict[str, Any] = Field(description="JSON Schema of the data to extract.")
    tier: str | None = Field(
        default=None, description="cost_effective (default), agentic, agentic_plus or turbo."
    )
    version: str | None = Field(default=None, description='"latest" or a dated version.')
    extraction_target: str | None = Field(
        default=None, description="per_doc (default), per_page or per_table_row."
    )
    cite_sources: bool | None = Field(default=None, description="Include citations.")
    advanced_citations: bool | None = Field(default=None, description="Tighter citation boxes.")
    confidence_scores: bool | None = Field(default=None, description="Include confidences.")
    system_prompt: str | None = Field(default=None, description="Guidance for model tiers.")
    target_pages: str | None = Field(default=None, description='1-based pages, e.g. "1,3-5".')
    max_pages: int | None = Field(default=None, ge=1, description="Process at most N pages.")
    parse_tier: str | None = Field(default=None, description="Parse tier used before extraction.")
    parse_config_id: str | None = Field(default=None, description="Saved parse configuration.")
    disable_cache: bool | None = None
    spreadsheet_mode: bool | None = None
    sheet_names: list[str] | None = None


class ExtractCreateRequest(WireModel):
    """Body of ``POST /api/v2/extract``."""

    file_input: str = Field(description="A file id (``dfl-``) or a parse job id (``pjb-``).")
    configuration: ExtractConfiguration | None = None
    configuration_id: str | None = None
    webhook_configurations: list[WebhookConfiguration] | None = None
    webhook_configuration_ids: list[str] | None = None


# --- field metadata ----------------------------------------------------------------------------


class CitationBBox(WireModel):
    """A box on a page in points, origin top-left."""

    x: float
    y: float
    w: float
    h: float


class PageDimensions(WireModel):
    width: float
    height: float


class Citation(WireModel):
    """Where a value was read: page, the text that matched, and its boxes."""

    page: int | None = Field(default=None, description="1-based page number.")
    matching_text: str | None = None
    bounding_boxes: list[CitationBBox] | None = None
    page_dimensions: PageDimensions | None = None


class FieldMetadata(WireModel):
    """Metadata of one extracted leaf value."""

    confidence: float | None = Field(default=None, ge=0, le=1)
    extraction_confidence: float | None = Field(default=None, ge=0, le=1)
    parsing_confidence: float | None = Field(default=None, ge=0, le=1)
    reasoning: str | None = None
    citation: list[Citation] | None = None


class ExtractedFieldMetadata(WireModel):
    """Field metadata mirrored over the data tree: scalars map to a :class:`FieldMetadata`
    dict, objects to dicts of sub-fields, arrays to lists indexed by position."""

    document_metadata: dict[str, Any] | None = None
    page_metadata: list[dict[str, Any]] | None = None
    row_metadata: list[dict[str, Any]] | None = None


class ExtractJobMetadata(WireModel):
    """``extract_metadata``: field metadata and the parse job behind the extraction."""

    field_metadata: ExtractedFieldMetadata | None = None
    parse_job_id: str | None = None
    parse_tier: str | None = None


class ExtractJobUsage(WireModel):
    num_pages_extracted: int | None = None
    num_pages_billed: int | None = None


class ExtractJobLevelMetadata(WireModel):
    """``metadata``: job-level metadata."""

    usage: ExtractJobUsage | None = None


class ExtractUsage(WireModel):
    credits: float | None = None
    extract_credits: float | None = None
    parse_credits: float | None = None


# --- job -------------------------------------------------------------------------------------


class ExtractV2Job(WireModel):
    """An extraction job, as create, list, GET and cancel return it."""

    id: str = Field(description="Job id, ``exj-`` prefixed on Lamina.")
    project_id: str
    file_input: str
    status: JobStatus | str
    created_at: WireTime
    updated_at: WireTime
    configuration_id: str | None = None
    error_message: str | None = None
    configuration: ExtractConfiguration | None = None
    extract_result: dict[str, JsonValue] | list[dict[str, JsonValue]] | None = Field(
        default=None, description="One object for per_doc; a list for per_page / per_table_row."
    )
    extract_metadata: ExtractJobMetadata | None = None
    metadata: ExtractJobLevelMetadata | None = None
    usage: ExtractUsage | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in ("COMPLETED", "FAILED", "CANCELLED")


# --- schema endpoints ---------------------------------------------------------------------------


class SchemaValidationRequest(WireModel):
    """Body of ``POST /api/v2/extract/schema/validation``."""

    data_schema: dict[str, Any]


class SchemaValidationResponse(WireModel):
    data_schema: dict[str, Any] = Field(description="The schema, ready for extract jobs.")


class GeneratedConfiguration(WireModel):
    """``POST /api/v2/extract/schema/generate``: an extract_v2 configuration to save."""

    name: str
    parameters: dict[str, Any] = Field(description="``product_type`` and ``data_schema``.")


class SchemaGenerateRequest(WireModel):
    """Body of ``POST /api/v2/extract/schema/generate``."""

    data_schema: dict[str, Any] | None = None
    file_id: str | None = None
    name: str | None = None
    prompt: str | None = None
