"""``client.extract``: Extract v2 jobs, and the one-call helper ``client.extract(file, schema)``.

The resource object is callable: ``client.extract(path_or_id, Invoice)`` uploads (when given a
path, bytes or file object), creates the job, waits, fetches the field metadata and returns an
:class:`ExtractResult` — the data (an ``Invoice`` instance when a pydantic model was given) plus
a confidence and citations (page, text, boxes) for every field. ``client.extract.create``,
``get``, ``list``, ``iter``, ``cancel``, ``delete``, ``wait`` and ``validate_schema`` are the
plain API calls.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from lamina._exceptions import ExtractionValidationError
from lamina.client import _operations as ops
from lamina.client._inputs import FileInput
from lamina.client._parsing import DEFAULT_MAX_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT
from lamina.client._waiting import await_for, wait_for
from lamina.types import Citation, ExtractV2Job, PaginatedList, SchemaValidationResponse

if TYPE_CHECKING:
    from lamina.client._client import AsyncClient, Client

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_JOB_PREFIXES = ("dfl-", "pjb-")
_LEAF_KEYS = frozenset({"citation", "reasoning", "confidence", "extraction_confidence"})


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractedField:
    """One extracted leaf value with its provenance; ``path`` is like ``line_items[0].amount``."""

    path: str
    value: Any
    confidence: float | None
    reasoning: str | None
    citations: list[Citation]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for agent tools and logs."""
        return {
            "path": self.path,
            "value": self.value,
            "confidence": self.confidence,
            "reasoning": self.reasoning,
            "citations": [c.to_json_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class ExtractResult(Generic[T]):
    """The outcome of :meth:`Extract.__call__`.

    ``records`` holds one entry per document (``per_doc``), page (``per_page``) or table row
    (``per_table_row``); ``data`` is the only record of a ``per_doc`` extraction. ``raw`` is the
    same as plain JSON; ``metadata`` the per-record field metadata trees (the wire's
    ``document_metadata`` / ``page_metadata`` / ``row_metadata``).
    """

    job: ExtractV2Job
    target: str
    records: list[T]
    raw: list[dict[str, Any]]
    metadata: list[Any] = field(default_factory=list)

    @property
    def data(self) -> T:
        """The extracted record of a ``per_doc`` extraction."""
        if self.target != "per_doc" or len(self.records) != 1:
            raise ValueError(
                f"A {self.target} extraction has {len(self.records)} records; use .records"
            )
        return self.records[0]

    def fields(self, record: int = 0) -> list[ExtractedField]:
        """Every leaf of record ``record``, flattened, with confidence and citations."""
        if record >= len(self.raw):
            return []
        meta = self.metadata[record] if record < len(self.metadata) else None
        return list(_flatten(self.raw[record], meta, ""))

    def citations(self, path: str, record: int = 0) -> list[Citation]:
        """Citations of one field by path (``"total"``, ``"line_items[1].amount"``)."""
        for item in self.fields(record):
            if item.path == path:
                return item.citations
        raise KeyError(path)

    def to_dict(self) -> dict[str, Any]:
        """``{"data": ..., "fields": [...]}``, JSON-ready: what an agent tool returns."""
        data: Any = self.raw[0] if self.target == "per_doc" and self.raw else self.raw
        fields = [
            {"record": i, **f.to_dict()} if self.target != "per_doc" else f.to_dict()
            for i in range(len(self.raw))
            for f in self.fields(i)
        ]
        return {"job_id": self.job.id, "data": data, "fields": fields}


def _is_leaf_meta(meta: Any) -> bool:
    return isinstance(meta, Mapping) and bool(_LEAF_KEYS & set(meta))


def _flatten(value: Any, meta: Any, path: str) -> Iterator[ExtractedField]:
    if isinstance(value, Mapping) and not _is_leaf_meta(meta):
        sub_meta = meta if isinstance(meta, Mapping) else {}
        for key, sub in value.items():
            yield from _flatten(sub, sub_meta.get(key), f"{path}.{key}" if path else key)
        return
    if isinstance(value, list) and not _is_leaf_meta(meta):
        metas = meta if isinstance(meta, list) else []
        for i, sub in enumerate(value):
            yield from _flatten(sub, metas[i] if i < len(metas) else None, f"{path}[{i}]")
        return
    entry = meta if isinstance(meta, Mapping) else {}
    citations = [Citation.model_validate(c) for c in entry.get("citation") or []]
    yield ExtractedField(
        path=path,
        value=value,
        confidence=entry.get("confidence"),
        reasoning=entry.get("reasoning"),
        citations=citations,
    )


def schema_of(schema: type[BaseModel] | Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema dict from a pydantic model class or a dict."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    if isinstance(schema, Mapping):
        return dict(schema)
    raise TypeError("schema must be a pydantic model class or a JSON Schema dict")


def build_result(
    job: ExtractV2Job, schema: type[BaseModel] | Mapping[str, Any], target: str
) -> ExtractResult[Any]:
    """Turn a completed job (fetched with ``extract_metadata``) into an :class:`ExtractResult`.

    Raises :class:`~lamina.ExtractionValidationError` when ``schema`` is a model the data does
    not validate as.
    """
    result = job.extract_result
    raw: list[dict[str, Any]]
    if result is None:
        raw = []
    elif isinstance(result, list):
        raw = list(result)
    else:
        raw = [result]
    field_meta = job.extract_metadata.field_metadata if job.extract_metadata else None
    metadata: list[Any] = []
    if field_meta is not None:
        if field_meta.document_metadata is not None:
            metadata = [field_meta.document_metadata]
        elif field_meta.page_metadata is not None:
            metadata = list(field_meta.page_metadata)
        elif field_meta.row_metadata is not None:
            metadata = list(field_meta.row_metadata)
    plain: ExtractResult[Any] = ExtractResult(job, target, list(raw), raw, metadata)
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return plain
    try:
        records = [schema.model_validate(r) for r in raw]
    except PydanticValidationError as exc:
        raise ExtractionValidationError(
            f"Extracted data from job {job.id} does not validate as {schema.__name__}: {exc}",
            errors=exc.errors(include_url=False),
            data=job.extract_result,
            result=plain,
        ) from exc
    return ExtractResult(job, target, records, raw, metadata)


def _configuration(
    schema: Mapping[str, Any],
    *,
    tier: str,
    target: str,
    cite_sources: bool,
    confidence_scores: bool,
    config: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "data_schema": dict(schema),
        "tier": tier,
        "extraction_target": target,
        "cite_sources": cite_sources,
        "confidence_scores": confidence_scores,
        **config,
    }


def _as_input_id(file: FileInput) -> str | None:
    """A ``dfl-``/``pjb-`` id given as a string (and not the name of an existing file)."""
    if isinstance(file, str) and file.startswith(_JOB_PREFIXES) and not os.path.exists(file):
        return file
    return None


# --- sync ---------------------------------------------------------------------------------------


class Extract:
    """Extract v2 jobs. Reach it as ``client.extract``; call it to extract in one step."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @overload
    def __call__(
        self,
        file: FileInput,
        schema: type[M],
        *,
        tier: str = ...,
        target: str = ...,
        cite_sources: bool = ...,
        confidence_scores: bool = ...,
        filename: str | None = ...,
        timeout: float | None = ...,
        poll_interval: float = ...,
        **config: Any,
    ) -> ExtractResult[M]: ...

    @overload
    def __call__(
        self,
        file: FileInput,
        schema: Mapping[str, Any],
        *,
        tier: str = ...,
        target: str = ...,
        cite_sources: bool = ...,
        confidence_scores: bool = ...,
        filename: str | None = ...,
        timeout: float | None = ...,
        poll_interval: float = ...,
        **config: Any,
    ) -> ExtractResult[dict[str, Any]]: ...

    def __call__(
        self,
        file: FileInput,
        schema: type[BaseModel] | Mapping[str, Any],
        *,
        tier: str = "cost_effective",
        target: str = "per_doc",
        cite_sources: bool = True,
        confidence_scores: bool = True,
        filename: str | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        **config: Any,
    ) -> ExtractResult[Any]:
        """Extract ``schema`` from ``file`` and return the data with citations.

        ``file``: a ``dfl-`` file id or a completed ``pjb-`` parse job id (no upload, no
        re-parse), or a path, bytes or binary file to upload. ``schema``: a pydantic model class
        (records come back as instances) or a JSON Schema dict. ``config``: other configuration
        fields (``system_prompt``, ``target_pages``, ``parse_tier``, ...). ``timeout`` bounds the
        wait for the job. Raises :class:`~lamina.JobFailedError` & co., and
        :class:`~lamina.ExtractionValidationError` when the data does not fit the model.
        """
        file_input = _as_input_id(file)
        if file_input is None:
            file_input = self._client.files.create(file, purpose="extract", filename=filename).id
        configuration = _configuration(
            schema_of(schema),
            tier=tier,
            target=target,
            cite_sources=cite_sources,
            confidence_scores=confidence_scores,
            config=config,
        )
        job = self.create(file_input, configuration=configuration)
        self.wait(job.id, timeout=timeout, poll_interval=poll_interval)
        done = self.get(job.id, expand=("extract_metadata",))
        return build_result(done, schema, target)

    def create(
        self,
        file_input: str,
        *,
        configuration: Mapping[str, Any] | None = None,
        configuration_id: str | None = None,
        webhook_configurations: Sequence[Mapping[str, Any]] | None = None,
    ) -> ExtractV2Job:
        """Start an extraction of a file (``dfl-``) or a completed parse job (``pjb-``).

        ``configuration`` is the wire's (``data_schema``, ``tier``, ``extraction_target``, ...).
        """
        call = ops.extract_create(
            file_input,
            configuration=configuration,
            configuration_id=configuration_id,
            webhook_configurations=webhook_configurations,
        )
        return self._client._call(call)

    def get(self, job_id: str, *, expand: str | Sequence[str] = ()) -> ExtractV2Job:
        """The job; ``expand``: ``configuration``, ``extract_metadata``, ``metadata``, ``usage``."""
        return self._client._call(ops.extract_get(job_id, expand=expand))

    def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        status: str | None = None,
        file_input: str | None = None,
        expand: str | Sequence[str] = (),
    ) -> PaginatedList[ExtractV2Job]:
        """One page of jobs, newest first."""
        call = ops.extract_list(
            page_size=page_size,
            page_token=page_token,
            status=status,
            file_input=file_input,
            expand=expand,
        )
        return self._client._call(call)

    def iter(
        self,
        *,
        page_size: int | None = None,
        status: str | None = None,
        file_input: str | None = None,
    ) -> Iterator[ExtractV2Job]:
        """Every job, fetching pages as the iteration reaches them."""
        token: str | None = None
        while True:
            page = self.list(
                page_size=page_size, page_token=token, status=status, file_input=file_input
            )
            yield from page.items
            token = page.next_page_token
            if not token:
                return

    def cancel(self, job_id: str) -> ExtractV2Job:
        """Ask the server to stop the job; returns its state after the request."""
        return self._client._call(ops.extract_cancel(job_id))

    def delete(self, job_id: str, *, force: bool = False) -> None:
        """Delete a finished job and its results (``force``: even one still running)."""
        self._client._call(ops.extract_delete(job_id, force=force))

    def validate_schema(
        self, schema: type[BaseModel] | Mapping[str, Any]
    ) -> SchemaValidationResponse:
        """Check a schema with the server; an invalid one raises
        :class:`~lamina.UnprocessableEntityError` whose ``detail`` says what is wrong."""
        return self._client._call(ops.extract_validate_schema(schema_of(schema)))

    def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
    ) -> ExtractV2Job:
        """Poll until the job completes and return it (see :meth:`Parsing.wait` for errors)."""
        return wait_for(
            lambda: self.get(job_id),
            ops.job_done,
            job_id,
            timeout,
            poll_interval,
            self._client._changes,
        )


# --- async --------------------------------------------------------------------------------------


class AsyncExtract:
    """Extract v2 jobs, asyncio form. Reach it as ``client.extract``; await a call to extract."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    @overload
    async def __call__(
        self,
        file: FileInput,
        schema: type[M],
        *,
        tier: str = ...,
        target: str = ...,
        cite_sources: bool = ...,
        confidence_scores: bool = ...,
        filename: str | None = ...,
        timeout: float | None = ...,
        poll_interval: float = ...,
        **config: Any,
    ) -> ExtractResult[M]: ...

    @overload
    async def __call__(
        self,
        file: FileInput,
        schema: Mapping[str, Any],
        *,
        tier: str = ...,
        target: str = ...,
        cite_sources: bool = ...,
        confidence_scores: bool = ...,
        filename: str | None = ...,
        timeout: float | None = ...,
        poll_interval: float = ...,
        **config: Any,
    ) -> ExtractResult[dict[str, Any]]: ...

    async def __call__(
        self,
        file: FileInput,
        schema: type[BaseModel] | Mapping[str, Any],
        *,
        tier: str = "cost_effective",
        target: str = "per_doc",
        cite_sources: bool = True,
        confidence_scores: bool = True,
        filename: str | None = None,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        **config: Any,
    ) -> ExtractResult[Any]:
        """Extract ``schema`` from ``file``; see :meth:`Extract.__call__`."""
        file_input = _as_input_id(file)
        if file_input is None:
            uploaded = await self._client.files.create(file, purpose="extract", filename=filename)
            file_input = uploaded.id
        configuration = _configuration(
            schema_of(schema),
            tier=tier,
            target=target,
            cite_sources=cite_sources,
            confidence_scores=confidence_scores,
            config=config,
        )
        job = await self.create(file_input, configuration=configuration)
        await self.wait(job.id, timeout=timeout, poll_interval=poll_interval)
        done = await self.get(job.id, expand=("extract_metadata",))
        return build_result(done, schema, target)

    async def create(
        self,
        file_input: str,
        *,
        configuration: Mapping[str, Any] | None = None,
        configuration_id: str | None = None,
        webhook_configurations: Sequence[Mapping[str, Any]] | None = None,
    ) -> ExtractV2Job:
        """Start an extraction; see :meth:`Extract.create`."""
        call = ops.extract_create(
            file_input,
            configuration=configuration,
            configuration_id=configuration_id,
            webhook_configurations=webhook_configurations,
        )
        return await self._client._call(call)

    async def get(self, job_id: str, *, expand: str | Sequence[str] = ()) -> ExtractV2Job:
        """The job, with the fields named in ``expand``."""
        return await self._client._call(ops.extract_get(job_id, expand=expand))

    async def list(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        status: str | None = None,
        file_input: str | None = None,
        expand: str | Sequence[str] = (),
    ) -> PaginatedList[ExtractV2Job]:
        """One page of jobs, newest first."""
        call = ops.extract_list(
            page_size=page_size,
            page_token=page_token,
            status=status,
            file_input=file_input,
            expand=expand,
        )
        return await self._client._call(call)

    async def iter(
        self,
        *,
        page_size: int | None = None,
        status: str | None = None,
        file_input: str | None = None,
    ) -> AsyncIterator[ExtractV2Job]:
        """Every job, fetching pages as the iteration reaches them."""
        token: str | None = None
        while True:
            page = await self.list(
                page_size=page_size, page_token=token, status=status, file_input=file_input
            )
            for item in page.items:
                yield item
            token = page.next_page_token
            if not token:
                return

    async def cancel(self, job_id: str) -> ExtractV2Job:
        """Ask the server to stop the job."""
        return await self._client._call(ops.extract_cancel(job_id))

    async def delete(self, job_id: str, *, force: bool = False) -> None:
        """Delete a finished job and its results."""
        await self._client._call(ops.extract_delete(job_id, force=force))

    async def validate_schema(
        self, schema: type[BaseModel] | Mapping[str, Any]
    ) -> SchemaValidationResponse:
        """Check a schema with the server; see :meth:`Extract.validate_schema`."""
        return await self._client._call(ops.extract_validate_schema(schema_of(schema)))

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
    ) -> ExtractV2Job:
        """Poll until the job completes and return it."""
        return await await_for(
            lambda: self.get(job_id),
            ops.job_done,
            job_id,
            timeout,
            poll_interval,
            self._client._changes,
        )
