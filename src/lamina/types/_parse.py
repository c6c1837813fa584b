"""Parse v2 shapes: the create body, the job, and the GET response with every ``expand`` field."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Discriminator, Field, Tag

from lamina.types._base import StoredModel, WireModel
from lamina.types._common import WireTime
from lamina.types._items import Item

JobStatus: TypeAlias = Literal["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"COMPLETED", "FAILED", "CANCELLED"})

Tier: TypeAlias = Literal["fast", "cost_effective", "agentic", "agentic_plus"]
TIERS: tuple[str, ...] = ("fast", "cost_effective", "agentic", "agentic_plus")

EXPAND_VALUES: tuple[str, ...] = (
    "text",
    "markdown",
    "items",
    "metadata",
    "job_metadata",
    "text_full",
    "markdown_full",
    "text_content_metadata",
    "markdown_content_metadata",
    "items_content_metadata",
    "metadata_content_metadata",
    "text_full_content_metadata",
    "markdown_full_content_metadata",
    "raw_words_content_metadata",
    "xlsx_content_metadata",
    "output_pdf_content_metadata",
    "images_content_metadata",
    "raw_parameters",
)


# --- create body -------------------------------------------------------------------------------


class PageRanges(WireModel):
    max_pages: int | None = Field(default=None, ge=1, description="Parse at most this many pages.")
    target_pages: str | None = Field(
        default=None, description='1-based pages and ranges, e.g. "1,3,5-7".'
    )


class MarkdownTableOptions(WireModel):
    compact_markdown_tables: bool | None = None
    markdown_table_multiline_separator: str | None = None
    merge_continued_tables: bool | None = None
    output_tables_as_markdown: bool | None = None


class MarkdownOptions(WireModel):
    annotate_links: bool | None = None
    annotate_line_numbers: bool | None = None
    annotate_revisions: bool | None = None
    inline_images: bool | None = None
    tables: MarkdownTableOptions | None = None


class OutputOptions(WireModel):
    markdown: MarkdownOptions | None = None
    spatial_text: dict[str, Any] | None = None
    images_to_save: list[Literal["embedded", "layout", "screenshot"]] | None = None
    extract_printed_page_number: bool | None = None
    granular_bboxes: list[str] | None = None
    save_output_pdf: bool | None = None
    tables_as_spreadsheet: dict[str, Any] | None = None
    additional_outputs: list[str] | None = None
    watermark_handling: str | None = None


class OcrParameters(WireModel):
    languages: list[str] | None = None


class ProcessingOptions(WireModel):
    aggressive_table_extraction: bool | None = None
    disable_heuristics: bool | None = None
    ignore: dict[str, Any] | None = None
    ocr_parameters: OcrParameters | None = None
    specialized_chart_parsing: str | None = None
    cost_optimizer: dict[str, Any] | None = None


class Timeouts(WireModel):
    base_in_seconds: int | None = Field(default=None, ge=1, le=7200)
    extra_time_per_page_in_seconds: int | None = Field(default=None, ge=0, le=300)


class JobFailureConditions(WireModel):
    allowed_page_failure_ratio: float | None = Field(default=None, ge=0, le=1)
    fail_on_buggy_font: bool | None = None
    fail_on_image_extraction_error: bool | None = None
    fail_on_image_ocr_error: bool | None = None
    fail_on_markdown_reconstruction_error: bool | None = None


class ProcessingControl(WireModel):
    timeouts: Timeouts | None = None
    job_failure_conditions: JobFailureConditions | None = None


class WebhookConfiguration(WireModel):
    webhook_url: str | None = None
    webhook_events: list[str] | None = None
    webhook_headers: dict[str, str] | None = None
    webhook_output_format: str | None = None
    webhook_signing_secret: str | None = None


class CropBox(WireModel):
    top: float | None = Field(default=None, ge=0, le=1)
    bottom: float | None = Field(default=None, ge=0, le=1)
    left: float | None = Field(default=None, ge=0, le=1)
    right: float | None = Field(default=None, ge=0, le=1)


class ParseConfiguration(WireModel):
    """Everything that says how to parse: the create body less the input and bookkeeping.

    The engine reads only this. Unknown options are kept (and reported back in
    ``raw_parameters``), never rejected.
    """

    tier: str = Field(description="fast, cost_effective, agentic or agentic_plus.")
    version: str = Field(default="latest", description='"latest" or a dated engine version.')
    disable_cache: bool | None = None
    crop_box: CropBox | None = None
    agentic_options: dict[str, Any] | None = None
    fast_options: dict[str, Any] | None = None
    input_options: dict[str, Any] | None = None
    output_options: OutputOptions | None = None
    page_ranges: PageRanges | None = None
    processing_control: ProcessingControl | None = None
    processing_options: ProcessingOptions | None = None


class ParseCreateRequest(ParseConfiguration):
    """Body of ``POST /api/v2/parse``; the upload route sends the same as a JSON form field."""

    file_id: str | None = None
    source_url: str | None = None
    http_proxy: str | None = None
    client_name: str | None = None
    configuration_id: str | None = None
    user_metadata: dict[str, str] | None = None
    webhook_configurations: list[WebhookConfiguration] | None = None
    webhook_configuration_ids: list[str] | None = None


# --- job -------------------------------------------------------------------------------------


class Usage(WireModel):
    credits: float | None = None


class ParseJob(WireModel):
    """A parse job's status and bookkeeping, as create, list and GET return it."""

    id: str = Field(description="Job id, ``pjb-`` prefixed.")
    project_id: str
    status: JobStatus
    created_at: WireTime | None = None
    updated_at: WireTime | None = None
    error_message: str | None = None
    name: str | None = None
    tier: str | None = None
    user_metadata: dict[str, str] | None = None
    usage: Usage | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


# --- GET response pieces ------------------------------------------------------------------------


class FailedPage(WireModel):
    """A page that could not be parsed; the rest of the document still is."""

    page_number: int
    success: Literal[False] = False
    error: str


class MarkdownPage(WireModel):
    page_number: int
    success: Literal[True] = True
    markdown: str
    header: str | None = None
    footer: str | None = None


class TextPage(WireModel):
    page_number: int
    text: str


class ItemsPage(WireModel):
    page_number: int
    success: Literal[True] = True
    page_width: float
    page_height: float
    items: list[Item]


def _success_tag(value: Any) -> str:
    ok = value.get("success", True) if isinstance(value, dict) else getattr(value, "success", True)
    return "ok" if ok else "failed"


AnyMarkdownPage: TypeAlias = Annotated[
    Annotated[MarkdownPage, Tag("ok")] | Annotated[FailedPage, Tag("failed")],
    Discriminator(_success_tag),
]
AnyItemsPage: TypeAlias = Annotated[
    Annotated[ItemsPage, Tag("ok")] | Annotated[FailedPage, Tag("failed")],
    Discriminator(_success_tag),
]


class MarkdownResult(WireModel):
    pages: list[AnyMarkdownPage]


class TextResult(WireModel):
    pages: list[TextPage]


class ItemsResult(WireModel):
    pages: list[AnyItemsPage]


class PageMetadata(WireModel):
    page_number: int
    confidence: float | None = Field(default=None, ge=0, le=1)
    cost_optimized: bool | None = None
    original_orientation_angle: int | None = None
    printed_page_number: str | None = None
    slide_section_name: str | None = None
    speaker_notes: str | None = None
    triggered_auto_mode: bool | None = None


class DocumentMetadata(WireModel):
    confidence: float | None = None


class MetadataResult(WireModel):
    pages: list[PageMetadata]
    document: DocumentMetadata | None = None


class ResultContentMetadata(WireModel):
    size_bytes: int
    exists: bool | None = None
    presigned_url: str | None = None


class ImageBBox(WireModel):
    x: float
    y: float
    w: float
    h: float


class ImageMetadata(StoredModel):
    index: int
    filename: str
    content_type: str | None = None
    size_bytes: int | None = None
    presigned_url: str | None = None
    category: Literal["screenshot", "embedded", "layout"] | None = None
    bbox: ImageBBox | None = None
    page_number: int | None = Field(default=None, description="Page the image is on (Lamina).")


class ImagesContentMetadata(WireModel):
    total_count: int
    images: list[ImageMetadata]


class ParseResponse(WireModel):
    """``GET /api/v2/parse/{job_id}``: the job, plus whatever ``expand`` asked for."""

    job: ParseJob
    raw_parameters: dict[str, Any] | None = None
    job_metadata: dict[str, Any] | None = None
    text: TextResult | None = None
    markdown: MarkdownResult | None = None
    items: ItemsResult | None = None
    metadata: MetadataResult | None = None
    text_full: str | None = None
    markdown_full: str | None = None
    result_content_metadata: dict[str, ResultContentMetadata] | None = None
    images_content_metadata: ImagesContentMetadata | None = None
