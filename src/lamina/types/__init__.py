"""Wire models: the JSON shapes of the Parse v2, Extract v2 and Files APIs, as pydantic v2 models.

Read leniently (unknown fields are kept); :func:`strict_validate` is for our own tests.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from lamina.types._base import WireModel
from lamina.types._batch import (
    BATCH_ITEM_STATUSES,
    BATCH_JOB_STATUSES,
    BATCH_TERMINAL_STATUSES,
    BatchCancelResponse,
    BatchItem,
    BatchItemList,
    BatchItemStatus,
    BatchJob,
    BatchJobList,
    BatchJobStatus,
    BatchJobStatusResponse,
    BatchJobType,
    BatchV2,
    BatchV2Config,
    BatchV2JobConfig,
    BatchV2JobReference,
    BatchV2Result,
    BatchWebhookConfiguration,
    ClassifierRule,
    ClassifyMode,
    ClassifyParsingConfiguration,
    Directory,
    DirectoryFile,
    ItemProcessingResults,
    ProcessingResult,
)
from lamina.types._common import BBox, ErrorBody, ErrorDetail, PaginatedList, PresignedURL
from lamina.types._extract import (
    EXTRACT_EXPAND_VALUES,
    EXTRACT_TIERS,
    EXTRACTION_TARGETS,
    Citation,
    CitationBBox,
    ExtractConfiguration,
    ExtractCreateRequest,
    ExtractedFieldMetadata,
    ExtractionTarget,
    ExtractJobLevelMetadata,
    ExtractJobMetadata,
    ExtractJobUsage,
    ExtractTier,
    ExtractUsage,
    ExtractV2Job,
    FieldMetadata,
    PageDimensions,
    SchemaGenerateRequest,
    SchemaValidationRequest,
    SchemaValidationResponse,
)
from lamina.types._files import FILE_PURPOSES, File
from lamina.types._items import (
    CodeItem,
    FooterItem,
    HeaderItem,
    HeadingItem,
    ImageItem,
    Item,
    LinkItem,
    ListEntry,
    ListItem,
    ParseConcern,
    TableItem,
    TextItem,
    UnknownItem,
)
from lamina.types._parse import (
    EXPAND_VALUES,
    TERMINAL_STATUSES,
    TIERS,
    AnyItemsPage,
    AnyMarkdownPage,
    CropBox,
    DocumentMetadata,
    FailedPage,
    ImageBBox,
    ImageMetadata,
    ImagesContentMetadata,
    ItemsPage,
    ItemsResult,
    JobFailureConditions,
    JobStatus,
    MarkdownOptions,
    MarkdownPage,
    MarkdownResult,
    MarkdownTableOptions,
    MetadataResult,
    OcrParameters,
    OutputOptions,
    PageMetadata,
    PageRanges,
    ParseConfiguration,
    ParseCreateRequest,
    ParseJob,
    ParseResponse,
    ProcessingControl,
    ProcessingOptions,
    ResultContentMetadata,
    TextPage,
    TextResult,
    Tier,
    Timeouts,
    Usage,
    WebhookConfiguration,
)

__all__ = [
    "BATCH_ITEM_STATUSES",
    "BATCH_JOB_STATUSES",
    "BATCH_TERMINAL_STATUSES",
    "EXPAND_VALUES",
    "EXTRACTION_TARGETS",
    "EXTRACT_EXPAND_VALUES",
    "EXTRACT_TIERS",
    "FILE_PURPOSES",
    "TERMINAL_STATUSES",
    "TIERS",
    "AnyItemsPage",
    "AnyMarkdownPage",
    "BBox",
    "BatchCancelResponse",
    "BatchItem",
    "BatchItemList",
    "BatchItemStatus",
    "BatchJob",
    "BatchJobList",
    "BatchJobStatus",
    "BatchJobStatusResponse",
    "BatchJobType",
    "BatchV2",
    "BatchV2Config",
    "BatchV2JobConfig",
    "BatchV2JobReference",
    "BatchV2Result",
    "BatchWebhookConfiguration",
    "Citation",
    "CitationBBox",
    "ClassifierRule",
    "ClassifyMode",
    "ClassifyParsingConfiguration",
    "CodeItem",
    "CropBox",
    "Directory",
    "DirectoryFile",
    "DocumentMetadata",
    "ErrorBody",
    "ErrorDetail",
    "ExtractConfiguration",
    "ExtractCreateRequest",
    "ExtractJobLevelMetadata",
    "ExtractJobMetadata",
    "ExtractJobUsage",
    "ExtractTier",
    "ExtractUsage",
    "ExtractV2Job",
    "ExtractedFieldMetadata",
    "ExtractionTarget",
    "FailedPage",
    "FieldMetadata",
    "File",
    "FooterItem",
    "HeaderItem",
    "HeadingItem",
    "ImageBBox",
    "ImageItem",
    "ImageMetadata",
    "ImagesContentMetadata",
    "Item",
    "ItemProcessingResults",
    "ItemsPage",
    "ItemsResult",
    "JobFailureConditions",
    "JobStatus",
    "LinkItem",
    "ListEntry",
    "ListItem",
    "MarkdownOptions",
    "MarkdownPage",
    "MarkdownResult",
    "MarkdownTableOptions",
    "MetadataResult",
    "OcrParameters",
    "OutputOptions",
    "PageDimensions",
    "PageMetadata",
    "PageRanges",
    "PaginatedList",
    "ParseConcern",
    "ParseConfiguration",
    "ParseCreateRequest",
    "ParseJob",
    "ParseResponse",
    "PresignedURL",
    "ProcessingControl",
    "ProcessingOptions",
    "ProcessingResult",
    "ResultContentMetadata",
    "SchemaGenerateRequest",
    "SchemaValidationRequest",
    "SchemaValidationResponse",
    "TableItem",
    "TextItem",
    "TextPage",
    "TextResult",
    "Tier",
    "Timeouts",
    "UnknownItem",
    "Usage",
    "WebhookConfiguration",
    "WireModel",
    "strict_validate",
]

M = TypeVar("M", bound=BaseModel)


def strict_validate(model: type[M], data: Any) -> M:
    """Validate ``data`` as ``model`` but fail on any field the model does not declare.

    For tests: proves a response carries only documented fields, at every depth.
    """
    _assert_no_extra(model.model_validate(data))
    return model.model_validate(data)


def _assert_no_extra(obj: Any, path: str = "$") -> None:
    if isinstance(obj, BaseModel):
        extra = obj.model_extra or {}
        if extra and not isinstance(obj, UnknownItem):
            raise ValueError(f"undeclared fields at {path}: {sorted(extra)}")
        for name in type(obj).model_fields:
            _assert_no_extra(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            _assert_no_extra(value, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _assert_no_extra(value, f"{path}.{key}")
