"""``LaminaReader``: files parsed by Lamina as LlamaIndex ``Document`` objects."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal

from llama_index.core.bridge.pydantic import Field, SecretStr
from llama_index.core.readers.base import BasePydanticReader
from llama_index.core.schema import Document, ImageDocument

from lamina import AsyncClient, Client
from lamina.ingest import (
    EXCLUDED_KEYS,
    IMAGE_EXCLUDED_KEYS,
    ClientSettings,
    ImageRecord,
    JobOptions,
    MappingOptions,
    Progress,
    Record,
    Source,
    afetch_images,
    check_options,
    fetch_images,
    image_kinds,
    open_async_client,
    open_client,
    progress_enabled,
    resolve_sources,
    run_async,
    run_sync,
    to_records,
    with_images,
)


class LaminaReader(BasePydanticReader):
    """Parse files with Lamina and load them as ``Document`` objects, one per page by default.

    With no ``client`` and no ``base_url`` the Lamina engine runs in this process: no key, no
    server, no network. Give ``base_url`` (and ``api_key``) to use a ``lamina serve`` server or
    LlamaCloud, or inject a ready :class:`lamina.Client` / :class:`lamina.AsyncClient`.

    Inputs of :meth:`load_data` and friends: a path, a directory (its files, sorted), a glob
    pattern, ``bytes`` (name them with ``file_name=``), a ``(name, bytes)`` tuple, a binary file
    object, an ``http(s)://`` URL, an existing parse job id (``pjb-...``), an uploaded file id
    (``dfl-...``), or a list of these. It works as a ``SimpleDirectoryReader`` file extractor.

    Granularity: ``"document"`` (one Document per file), ``"page"`` (default) or ``"item"``
    (one per heading, paragraph, list, table, code block...; headers and footers are left out,
    as in the page markdown).

    Metadata is flat (str, int, float, bool): ``file_name``, ``file_path``, ``page_number``
    (1-based), ``page_label``, ``page_width``, ``page_height``, ``confidence``,
    ``speaker_notes``, ``tier``; items add ``item_type``, ``item_index``, ``level``,
    ``header_path`` (``"/Title/Section/"``, carried across pages), ``bbox`` (JSON list of
    ``{x, y, w, h}`` in page points, origin top-left) and ``table_html`` / ``table_csv``.
    Provenance, layout and bulky keys are excluded from embedding and LLM text.

    Re-ingestion is deduplicated: nothing volatile enters the metadata or the text, so loading
    unchanged files again gives the same ids *and* the same hashes, and an ``IngestionPipeline``
    with a docstore skips them (an ``IngestionCache`` re-embeds nothing). The parse job id
    changes on every parse, so it is left out unless ``include_job_id=True`` (an input that is
    a job id keeps it); signed URLs lose their signature and expiry parameters.

    Ids are UUIDs derived from the file's SHA-256, the page number and the item index, so
    loading the same content again gives the same ids (re-ingestion upserts). Sources known
    only by reference (URL, job id) derive them from the reference instead.

    Errors (``on_error``): ``"raise"`` (default) raises the first failure (a
    :class:`lamina.LaminaError`, or ``OSError`` for an unreadable path); ``"skip"`` leaves the
    failed file or page out and logs a warning on the ``lamina.integrations`` logger;
    ``"record"`` yields an empty-text Document with ``parse_status="failed"``, ``error`` and
    ``error_type`` in its metadata, in place of the file (or page) that failed.

    ``include_items=True`` adds the page's items as a JSON string under ``lamina_items``
    (excluded from embedding and LLM text); :class:`LaminaNodeParser` needs it. It is off by
    default so page Documents stored as they are do not carry the payload.

    ``images="embedded"`` (the images embedded in the pages) or ``"screenshot"`` (one render of
    each page), or a list of both, asks the parse job to save those images, downloads each one
    through the client and yields it as an ``ImageDocument`` (base64 ``image``,
    ``image_mimetype``, empty text) after the page Documents of the same file. Their metadata:
    ``file_name``, ``page_number``, ``image_category``, ``image_file_name``, ``image_index``,
    ``image_size_bytes``, ``bbox`` (JSON list of one ``{x, y, w, h}`` in page points, origin
    top-left; embedded images only), ``tier`` (``job_id`` with ``include_job_id``); their ids
    derive from the file's SHA-256, the page number and the image file name. Default ``None``:
    no images.
    """

    is_remote: bool = Field(default=False, description="True when parsing on a remote server.")
    granularity: Literal["document", "page", "item"] = Field(
        default="page", description="One Document per file, per page or per item."
    )
    tier: str = Field(
        default="cost_effective",
        description="cost_effective (tables, OCR of scans; the default), fast (text layer only), "
        "agentic, agentic_plus.",
    )
    parse_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Other Parse v2 create-body fields (page_ranges, output_options, ...).",
    )
    include_items: bool = Field(
        default=False, description="Put each page's items JSON under `lamina_items`."
    )
    include_job_id: bool = Field(
        default=False,
        description="Put the parse job id in the metadata (changes on every parse, so it "
        "defeats docstore/cache deduplication).",
    )
    num_workers: int = Field(default=4, ge=1, description="Parse jobs in flight at most.")
    show_progress: bool | None = Field(
        default=None, description="Progress bar; default on in a terminal or notebook."
    )
    on_error: Literal["raise", "skip", "record"] = Field(
        default="raise", description="What a failed file or page becomes."
    )
    images: Literal["embedded", "screenshot"] | list[Literal["embedded", "screenshot"]] | None = (
        Field(default=None, description="Also yield ImageDocuments: embedded images/screenshots.")
    )
    recursive: bool = Field(default=True, description="Walk sub-directories of a directory.")
    job_timeout: float | None = Field(
        default=600.0, description="Seconds to wait for one job (None: no limit)."
    )
    base_url: str | None = Field(default=None, description="Lamina or LlamaCloud URL.")
    api_key: SecretStr | None = Field(default=None, description="Bearer key for base_url.")
    data_dir: str | None = Field(
        default=None, description="Data folder of the in-process engine (no base_url)."
    )
    client: Client | None = Field(default=None, exclude=True, description="Injected client.")
    async_client: AsyncClient | None = Field(
        default=None, exclude=True, description="Injected asyncio client."
    )

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        check_options(self.granularity, self.on_error)
        image_kinds(self.images)
        if self.base_url is not None or (self.client is not None and not self.client.embedded):
            self.is_remote = True

    @classmethod
    def class_name(cls) -> str:
        return "LaminaReader"

    # --- loading ---------------------------------------------------------------------------------

    def lazy_load_data(
        self,
        file_path: Any,
        extra_info: Mapping[str, Any] | None = None,
        fs: Any = None,
        *,
        file_name: str | None = None,
    ) -> Iterator[Document]:
        """Yield Documents file by file, in input order, as their parse jobs finish.

        ``extra_info`` is added to every Document's metadata; ``fs`` is an fsspec file system
        to read paths from (as ``SimpleDirectoryReader`` passes it).
        """
        sources = self._sources(file_path, extra_info, fs, file_name)
        with (
            open_client(self.client, self._settings()) as client,
            Progress(len(sources), progress_enabled(self.show_progress)) as bar,
        ):
            outcomes = run_sync(
                sources, client, self._job_options(), num_workers=self.num_workers, progress=bar
            )
            kinds = image_kinds(self.images)
            for outcome in outcomes:
                for record in to_records(outcome, self._mapping_options()):
                    yield to_document(record)
                if kinds:
                    for image in fetch_images(
                        client, outcome, kinds, self.on_error, self.include_job_id
                    ):
                        yield to_image_document(image)

    def load_data(
        self,
        file_path: Any,
        extra_info: Mapping[str, Any] | None = None,
        fs: Any = None,
        *,
        file_name: str | None = None,
    ) -> list[Document]:
        """All Documents of ``file_path`` (see the class docstring for the accepted inputs)."""
        return list(self.lazy_load_data(file_path, extra_info, fs, file_name=file_name))

    async def alazy_load_data(  # type: ignore[override]
        self,
        file_path: Any,
        extra_info: Mapping[str, Any] | None = None,
        fs: Any = None,
        *,
        file_name: str | None = None,
    ) -> AsyncIterator[Document]:
        """Async generator of Documents, on :class:`lamina.AsyncClient` (no worker threads).

        Unlike the base class's ``alazy_load_data`` (a coroutine returning a list), iterate it
        with ``async for``; :meth:`aload_data` collects it.
        """
        sources = self._sources(file_path, extra_info, fs, file_name)
        async with open_async_client(self.async_client, self.client, self._settings()) as client:
            with Progress(len(sources), progress_enabled(self.show_progress)) as bar:
                outcomes = run_async(
                    sources,
                    client,
                    self._job_options(),
                    num_workers=self.num_workers,
                    progress=bar,
                )
                kinds = image_kinds(self.images)
                async for outcome in outcomes:
                    for record in to_records(outcome, self._mapping_options()):
                        yield to_document(record)
                    if kinds:
                        for image in await afetch_images(
                            client, outcome, kinds, self.on_error, self.include_job_id
                        ):
                            yield to_image_document(image)

    async def aload_data(
        self,
        file_path: Any,
        extra_info: Mapping[str, Any] | None = None,
        fs: Any = None,
        *,
        file_name: str | None = None,
    ) -> list[Document]:
        """All Documents of ``file_path``, parsed with the asyncio client."""
        return [
            doc
            async for doc in self.alazy_load_data(file_path, extra_info, fs, file_name=file_name)
        ]

    # --- helpers ---------------------------------------------------------------------------------

    def _sources(
        self, file_path: Any, extra_info: Mapping[str, Any] | None, fs: Any, file_name: str | None
    ) -> list[Source]:
        return resolve_sources(
            file_path, extra_info=extra_info, fs=fs, recursive=self.recursive, file_name=file_name
        )

    def _settings(self) -> ClientSettings:
        return ClientSettings(base_url=self.base_url, api_key=self.api_key, data_dir=self.data_dir)

    def _job_options(self) -> JobOptions:
        options = JobOptions.for_granularity(
            self.granularity,
            tier=self.tier,
            parse_options=self.parse_options,
            timeout=self.job_timeout,
        )
        return with_images(options, image_kinds(self.images))

    def _mapping_options(self) -> MappingOptions:
        return MappingOptions(
            granularity=self.granularity,
            on_error=self.on_error,
            include_items=self.include_items,
            include_job_id=self.include_job_id,
        )


def to_document(record: Record) -> Document:
    """A LlamaIndex Document from a record, bulky and provenance keys excluded from text."""
    excluded = [key for key in EXCLUDED_KEYS if key in record.metadata]
    return Document(
        id_=record.id,
        text=record.text,
        metadata=dict(record.metadata),
        excluded_embed_metadata_keys=list(excluded),
        excluded_llm_metadata_keys=list(excluded),
    )


def to_image_document(record: ImageRecord) -> ImageDocument:
    """A LlamaIndex ImageDocument (base64 image) from a fetched image record."""
    excluded = [key for key in IMAGE_EXCLUDED_KEYS if key in record.metadata]
    return ImageDocument(
        id_=record.id,
        text="",
        image=base64.b64encode(record.data or b"").decode("ascii"),
        image_mimetype=record.mimetype,
        metadata=dict(record.metadata),
        excluded_embed_metadata_keys=list(excluded),
        excluded_llm_metadata_keys=list(excluded),
    )
