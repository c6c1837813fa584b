"""Framework-neutral ingestion: inputs → parse jobs → flat records.

The LlamaIndex reader and the LangChain loader are thin wrappers over this package: it turns what
a caller hands over (paths, directories, globs, bytes, file objects, URLs, job ids, file ids) into
:class:`Source` objects, runs their parse jobs on a :class:`lamina.Client` or
:class:`lamina.AsyncClient` with a bound on jobs in flight, and maps each response to
:class:`Record` objects (text, flat store-safe metadata, a deterministic id) that a framework
wrapper turns into its own document type; on request, the images the job saved become
:class:`ImageRecord` objects with their bytes. It knows nothing of either framework.
"""

from __future__ import annotations

from lamina.ingest._images import (
    IMAGE_EXCLUDED_KEYS,
    IMAGE_KINDS,
    IMAGES_EXPAND,
    ImageKind,
    ImageRecord,
    afetch_images,
    fetch_images,
    image_kinds,
    image_records,
    with_images,
)
from lamina.ingest._records import (
    EXCLUDED_KEYS,
    FURNITURE_TYPES,
    GRANULARITIES,
    ID_NAMESPACE,
    ITEMS_KEY,
    ON_ERROR_MODES,
    Granularity,
    HeaderPath,
    MappingOptions,
    OnError,
    PageParseError,
    Record,
    Scalar,
    bbox_json,
    check_options,
    item_metadata,
    item_text,
    make_id,
    table_markdown,
    to_records,
)
from lamina.ingest._runner import (
    DEFAULT_EXPAND,
    RECOVERABLE,
    ClientSettings,
    JobOptions,
    Outcome,
    Progress,
    aparse_source,
    content_identity,
    open_async_client,
    open_client,
    parse_source,
    progress_enabled,
    reference_identity,
    run_async,
    run_sync,
)
from lamina.ingest._schemas import (
    ExtractionSchema,
    describe_fields,
    json_schema_of,
    schema_about,
    schema_title,
    tool_name_for,
)
from lamina.ingest._sources import Source, SourceKind, resolve_sources
from lamina.ingest._tools import ID_PREFIXES, tool_error_message, tool_source

__all__ = [
    "DEFAULT_EXPAND",
    "EXCLUDED_KEYS",
    "FURNITURE_TYPES",
    "GRANULARITIES",
    "ID_NAMESPACE",
    "ID_PREFIXES",
    "IMAGES_EXPAND",
    "IMAGE_EXCLUDED_KEYS",
    "IMAGE_KINDS",
    "ITEMS_KEY",
    "ON_ERROR_MODES",
    "RECOVERABLE",
    "ClientSettings",
    "ExtractionSchema",
    "Granularity",
    "HeaderPath",
    "ImageKind",
    "ImageRecord",
    "JobOptions",
    "MappingOptions",
    "OnError",
    "Outcome",
    "PageParseError",
    "Progress",
    "Record",
    "Scalar",
    "Source",
    "SourceKind",
    "afetch_images",
    "aparse_source",
    "bbox_json",
    "check_options",
    "content_identity",
    "describe_fields",
    "fetch_images",
    "image_kinds",
    "image_records",
    "item_metadata",
    "item_text",
    "json_schema_of",
    "make_id",
    "open_async_client",
    "open_client",
    "parse_source",
    "progress_enabled",
    "reference_identity",
    "resolve_sources",
    "run_async",
    "run_sync",
    "schema_about",
    "schema_title",
    "table_markdown",
    "to_records",
    "tool_error_message",
    "tool_name_for",
    "tool_source",
    "with_images",
]
