"""``LaminaLoader`` and ``LaminaBlobParser``: files parsed by Lamina as LangChain documents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.document_loaders import BaseBlobParser, BaseLoader
from langchain_core.documents import Document
from langchain_core.documents.base import Blob
from pydantic import SecretStr

from lamina import AsyncClient, Client
from lamina.ingest import (
    ClientSettings,
    JobOptions,
    MappingOptions,
    Progress,
    Record,
    Source,
    check_options,
    open_async_client,
    open_client,
    parse_source,
    progress_enabled,
    resolve_sources,
    run_async,
    run_sync,
    to_records,
)

Granularity = Literal["document", "page", "item", "chunk"]

DEFAULT_CHUNK_SIZE = 1000
"""Characters (or tokens, with a tokenizer) per chunk of ``granularity="chunk"`` by default."""
OnError = Literal["raise", "skip", "record"]


def to_langchain_document(record: Record) -> Document:
    """A LangChain Document from a record.

    Adds LangChain's keys: ``source`` (the path, else the URL, else the file name, else the job
    id) and ``page`` (**0-based**, as LangChain's PDF loaders count) beside ``page_number``
    (1-based, as Lamina and LlamaIndex count).
    """
    meta = record.metadata
    source = next(
        (meta[k] for k in ("file_path", "source_url", "file_name", "job_id") if k in meta), None
    )
    metadata: dict[str, Any] = {} if source is None else {"source": source}
    for key, value in meta.items():
        if key == "page_number" and isinstance(value, int):
            metadata["page"] = value - 1
        metadata[key] = value
    return Document(id=record.id, page_content=record.text, metadata=metadata)


class _LaminaOptions:
    """Settings shared by the loader and the blob parser."""

    def __init__(
        self,
        *,
        granularity: Granularity,
        tier: str,
        parse_options: Mapping[str, Any] | None,
        on_error: OnError,
        job_timeout: float | None,
        client: Client | None,
        async_client: AsyncClient | None,
        base_url: str | None,
        api_key: str | SecretStr | None,
        data_dir: str | None,
        include_job_id: bool = False,
        chunk_size: int | None = None,
        tokenizer: Callable[[str], Sequence[Any]] | None = None,
        section_in_text: bool | None = None,
        chunk_overlap: int = 0,
    ) -> None:
        check_options(granularity, on_error)
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive number, not {chunk_size!r}")
        self.include_job_id = include_job_id
        self.chunk_size = chunk_size or DEFAULT_CHUNK_SIZE
        if chunk_overlap < 0 or chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap must be at least 0 and less than chunk_size, not {chunk_overlap!r}"
            )
        self.chunk_overlap = chunk_overlap
        self.tokenizer = tokenizer
        self.section_in_text = (
            granularity in ("chunk", "item") if section_in_text is None else section_in_text
        )
        self.granularity = granularity
        self.tier = tier
        self.parse_options = dict(parse_options or {})
        self.on_error = on_error
        self.job_timeout = job_timeout
        self.client = client
        self.async_client = async_client
        key = SecretStr(api_key) if isinstance(api_key, str) else api_key
        self._settings = ClientSettings(base_url=base_url, api_key=key, data_dir=data_dir)

    def _job_options(self) -> JobOptions:
        return JobOptions.for_granularity(
            self.granularity,
            tier=self.tier,
            parse_options=self.parse_options,
            timeout=self.job_timeout,
        )

    def _mapping_options(self) -> MappingOptions:
        return MappingOptions(
            granularity=self.granularity,
            on_error=self.on_error,
            include_job_id=self.include_job_id,
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            tokenizer=self.tokenizer,
            section_in_text=self.section_in_text,
        )


class LaminaLoader(_LaminaOptions, BaseLoader):
    """Load files parsed by Lamina as LangChain ``Document`` objects, one per page by default.

    With no ``client`` and no ``base_url`` the Lamina engine runs in this process: no key, no
    server, no network. Give ``base_url`` (and ``api_key``) for a ``lamina serve`` server or
    LlamaCloud, or inject a :class:`lamina.Client` (and :class:`lamina.AsyncClient` for
    :meth:`alazy_load`; without one, an async client is opened with the sync client's settings).

    ``file_path`` takes a path, a directory (its files, sorted), a glob pattern, ``bytes`` (name
    them with ``file_name``), a ``(name, bytes)`` tuple, a binary file object, an
    ``http(s)://`` URL, a parse job id (``pjb-...``), an uploaded file id (``dfl-...``), or a
    list of these.

    Metadata (flat: str, int, float, bool): ``source``, ``file_name``, ``file_path``, ``page``
    (0-based, LangChain's habit) and ``page_number`` (1-based), ``page_label``, ``page_width``,
    ``page_height``, ``confidence``, ``speaker_notes``, ``tier``; with
    ``granularity="item"`` also ``item_type``, ``item_index``, ``level``, ``header_path``,
    ``bbox`` (JSON list of ``{x, y, w, h}``, page points, origin top-left), ``table_html`` and
    ``table_csv``. ``Document.id`` is a UUID derived from the file's SHA-256, page and item
    index, so loading the same content again gives the same ids; nothing volatile enters the
    metadata or the text (the parse job id only with ``include_job_id=True``), so
    ``langchain_core.indexing.index()`` with a record manager skips unchanged content on a re-run.

    ``granularity="chunk"`` yields retrieval-sized Documents along the document's structure:
    items of one section merged up to ``chunk_size`` (a real maximum: tokens when ``tokenizer``
    is given, a callable returning a text's tokens; characters otherwise; default 1000), longer
    items split at sentences (tables between rows, the header row repeated in every piece),
    headings and captions leading what follows them, glyph junk left out and link annotations
    folded into the ``links`` of the text they cover (markdown links too: their anchor text
    stays in ``page_content``, as in ``LaminaNodeParser``). LangChain embeds ``page_content`` alone,
    so with ``"chunk"`` and ``"item"`` the section path (``Title > Section``) is written on the
    first line of the text (``section_in_text``, default on for those two, off otherwise).
    ``chunk_overlap`` (``"chunk"``, default 0) starts a chunk that continues a section's running
    text with the last sentences of the chunk before, up to that size.

    ``on_error``: ``"raise"`` (default) raises the first failure; ``"skip"`` leaves the failed
    file or page out and logs a warning (logger ``lamina.integrations``); ``"record"`` yields an
    empty Document with ``parse_status="failed"``, ``error`` and ``error_type`` in its place.
    """

    def __init__(
        self,
        file_path: Any,
        *,
        granularity: Granularity = "page",
        tier: str = "cost_effective",
        parse_options: Mapping[str, Any] | None = None,
        num_workers: int = 4,
        show_progress: bool | None = None,
        on_error: OnError = "raise",
        recursive: bool = True,
        job_timeout: float | None = 600.0,
        file_name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        data_dir: str | None = None,
        include_job_id: bool = False,
        chunk_size: int | None = None,
        chunk_overlap: int = 0,
        tokenizer: Callable[[str], Sequence[Any]] | None = None,
        section_in_text: bool | None = None,
    ) -> None:
        """Set up the loader; nothing is read or parsed before :meth:`lazy_load`.

        ``metadata`` is added to every Document; ``num_workers`` bounds the parse jobs in
        flight; ``show_progress`` defaults to on in a terminal or notebook.
        """
        super().__init__(
            granularity=granularity,
            tier=tier,
            parse_options=parse_options,
            on_error=on_error,
            job_timeout=job_timeout,
            client=client,
            async_client=async_client,
            base_url=base_url,
            api_key=api_key,
            data_dir=data_dir,
            include_job_id=include_job_id,
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            tokenizer=tokenizer,
            section_in_text=section_in_text,
        )
        if num_workers < 1:
            raise ValueError("num_workers must be >= 1")
        self.file_path = file_path
        self.file_name = file_name
        self.metadata = dict(metadata or {})
        self.num_workers = num_workers
        self.show_progress = show_progress
        self.recursive = recursive

    def _sources(self) -> list[Source]:
        return resolve_sources(
            self.file_path,
            extra_info=self.metadata,
            recursive=self.recursive,
            file_name=self.file_name,
        )

    def lazy_load(self) -> Iterator[Document]:
        """Yield Documents file by file, in input order, as their parse jobs finish."""
        sources = self._sources()
        with (
            open_client(self.client, self._settings) as client,
            Progress(len(sources), progress_enabled(self.show_progress)) as bar,
        ):
            outcomes = run_sync(
                sources, client, self._job_options(), num_workers=self.num_workers, progress=bar
            )
            for outcome in outcomes:
                for record in to_records(outcome, self._mapping_options()):
                    yield to_langchain_document(record)

    async def alazy_load(self) -> AsyncIterator[Document]:
        """The same Documents as :meth:`lazy_load`, parsed on :class:`lamina.AsyncClient`."""
        sources = self._sources()
        async with open_async_client(self.async_client, self.client, self._settings) as client:
            with Progress(len(sources), progress_enabled(self.show_progress)) as bar:
                outcomes = run_async(
                    sources,
                    client,
                    self._job_options(),
                    num_workers=self.num_workers,
                    progress=bar,
                )
                async for outcome in outcomes:
                    for record in to_records(outcome, self._mapping_options()):
                        yield to_langchain_document(record)


class LaminaBlobParser(_LaminaOptions, BaseBlobParser):
    """Parse a ``Blob`` with Lamina, for ``GenericLoader`` and other blob pipelines.

    >>> from langchain_community.document_loaders.generic import GenericLoader  # doctest: +SKIP
    >>> loader = GenericLoader.from_filesystem("docs/", glob="**/*.pdf",
    ...                                        parser=LaminaBlobParser())  # doctest: +SKIP

    Same Documents, metadata, ids and ``on_error`` behaviour as :class:`LaminaLoader`;
    ``source`` is the blob's path when it has one.
    """

    def __init__(
        self,
        *,
        granularity: Granularity = "page",
        tier: str = "cost_effective",
        parse_options: Mapping[str, Any] | None = None,
        on_error: OnError = "raise",
        job_timeout: float | None = 600.0,
        client: Client | None = None,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        data_dir: str | None = None,
        include_job_id: bool = False,
        chunk_size: int | None = None,
        chunk_overlap: int = 0,
        tokenizer: Callable[[str], Sequence[Any]] | None = None,
        section_in_text: bool | None = None,
    ) -> None:
        """Set up the parser; see :class:`LaminaLoader` for the options."""
        super().__init__(
            granularity=granularity,
            tier=tier,
            parse_options=parse_options,
            on_error=on_error,
            job_timeout=job_timeout,
            client=client,
            async_client=None,
            base_url=base_url,
            api_key=api_key,
            data_dir=data_dir,
            include_job_id=include_job_id,
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            tokenizer=tokenizer,
            section_in_text=section_in_text,
        )

    def lazy_parse(self, blob: Blob) -> Iterator[Document]:
        """Parse one blob and yield its Documents."""
        source = blob_source(blob)
        with open_client(self.client, self._settings) as client:
            outcome = parse_source(client, source, self._job_options())
        for record in to_records(outcome, self._mapping_options()):
            yield to_langchain_document(record)


def blob_source(blob: Blob) -> Source:
    """A blob as a source: its bytes, named after its path (or ``blob.source``) when known."""
    data = blob.as_bytes()
    if blob.path is not None:
        path = str(blob.path)
        return Source(kind="path", name=Path(path).name, path=path, data=data)
    name = Path(str(blob.source)).name if blob.source else None
    return Source(kind="bytes", name=name, data=data)
