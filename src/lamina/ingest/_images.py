"""Images saved by a parse job → :class:`ImageRecord` objects (metadata, deterministic id, bytes).

A loader that wants images asks for them with :func:`with_images` (``images_to_save`` in the
create body and the ``images_content_metadata`` expand), then, per outcome, gets the records
with their content through :func:`fetch_images` / :func:`afetch_images`. Framework wrappers turn
them into their own image document type; nothing here knows a framework.
"""

from __future__ import annotations

import dataclasses
import logging
import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from lamina import AsyncClient, Client, LaminaError
from lamina.ingest._records import (
    EXCLUDED_KEYS,
    OnError,
    Scalar,
    _base_metadata,
    _put,
    _user_metadata,
    bbox_json,
    make_id,
)
from lamina.ingest._runner import RECOVERABLE, JobOptions, Outcome
from lamina.types import ImageMetadata

logger = logging.getLogger("lamina.integrations")

ImageKind: TypeAlias = Literal["embedded", "screenshot"]

IMAGE_KINDS: tuple[str, ...] = ("embedded", "screenshot")
"""What a loader can ask for: images embedded in the pages, or one screenshot per page."""

IMAGES_EXPAND = "images_content_metadata"

IMAGE_EXCLUDED_KEYS: tuple[str, ...] = (
    *EXCLUDED_KEYS,
    "image_file_name",
    "image_index",
    "image_size_bytes",
)
"""Keys of image records kept out of embedding and LLM text (on top of :data:`EXCLUDED_KEYS`,
which already holds ``bbox``, ``job_id``, ``file_path``...)."""


@dataclass(frozen=True)
class ImageRecord:
    """One image of a parsed file: flat metadata, a deterministic id and (once fetched) bytes.

    ``url`` is the job's presigned URL of the image: it expires, so it is not in the metadata.
    """

    id: str
    metadata: dict[str, Scalar]
    mimetype: str
    url: str | None = field(default=None, repr=False)
    data: bytes | None = field(default=None, repr=False)
    job_id: str | None = None
    """The parse job that saved the image (for messages; in the metadata only on request)."""


def image_kinds(images: str | Iterable[str] | None) -> tuple[str, ...]:
    """Normalize a loader's ``images`` option: ``None`` → ``()``, a kind → ``(kind,)``."""
    if images is None:
        return ()
    kinds = (images,) if isinstance(images, str) else tuple(dict.fromkeys(images))
    for kind in kinds:
        if kind not in IMAGE_KINDS:
            raise ValueError(f"images must be one of {IMAGE_KINDS} (or None), not {kind!r}")
    return kinds


def with_images(options: JobOptions, kinds: Iterable[str]) -> JobOptions:
    """``options`` that also save ``kinds`` and list them (``images_content_metadata``).

    Other ``output_options`` the caller set are kept; ``images_to_save`` is the union. With no
    kinds, ``options`` is returned unchanged.
    """
    kinds = tuple(kinds)
    if not kinds:
        return options
    parse_options = dict(options.parse_options)
    output = parse_options.get("output_options") or {}
    if hasattr(output, "model_dump"):
        output = output.model_dump(exclude_none=True)
    output = dict(output)
    output["images_to_save"] = list(dict.fromkeys([*(output.get("images_to_save") or []), *kinds]))
    parse_options["output_options"] = output
    expand = options.expand if IMAGES_EXPAND in options.expand else (*options.expand, IMAGES_EXPAND)
    return dataclasses.replace(options, expand=expand, parse_options=parse_options)


def image_records(
    outcome: Outcome, kinds: Iterable[str], include_job_id: bool = False
) -> list[ImageRecord]:
    """The images of a completed outcome whose category is one of ``kinds``, without content.

    Ids are UUIDs from the file's identity, the page number and the image's file name, so the
    same content loaded again gives the same ids. A failed outcome has no images. The job id
    enters the metadata only with ``include_job_id`` (it changes on every parse).
    """
    response = outcome.response
    if outcome.error is not None or response is None or response.images_content_metadata is None:
        return []
    wanted = set(kinds)
    base = {**_user_metadata(outcome.source), **_base_metadata(outcome)}
    if include_job_id:
        _put(base, "job_id", response.job.id)
    _put(base, "tier", response.job.tier)
    records = []
    for image in response.images_content_metadata.images:
        if image.category not in wanted:
            continue
        record = _record(outcome.identity, base, image)
        records.append(dataclasses.replace(record, job_id=response.job.id))
    return records


def _record(identity: str, base: Mapping[str, Scalar], image: ImageMetadata) -> ImageRecord:
    meta = dict(base)
    _put(meta, "page_number", image.page_number)
    _put(meta, "image_category", image.category)
    _put(meta, "image_file_name", image.filename)
    meta["image_index"] = image.index
    _put(meta, "image_size_bytes", image.size_bytes)
    if image.bbox is not None:
        meta["bbox"] = bbox_json([image.bbox])
    mimetype = (
        image.content_type or mimetypes.guess_type(image.filename)[0] or "application/octet-stream"
    )
    page = image.page_number if image.page_number is not None else "-"
    ident = make_id(identity, "p", page, "img", image.filename)
    return ImageRecord(ident, meta, mimetype, url=image.presigned_url)


def fetch_images(
    client: Client,
    outcome: Outcome,
    kinds: Iterable[str],
    on_error: OnError = "raise",
    include_job_id: bool = False,
) -> list[ImageRecord]:
    """:func:`image_records` with each image's bytes downloaded through ``client``.

    An image that cannot be downloaded raises under ``on_error="raise"``; otherwise it is left
    out with a warning on the ``lamina.integrations`` logger.
    """
    fetched = []
    for record in image_records(outcome, kinds, include_job_id):
        try:
            data = client.download(_url(record))
        except RECOVERABLE as exc:
            _failed(record, exc, on_error)
            continue
        fetched.append(dataclasses.replace(record, data=data))
    return fetched


async def afetch_images(
    client: AsyncClient,
    outcome: Outcome,
    kinds: Iterable[str],
    on_error: OnError = "raise",
    include_job_id: bool = False,
) -> list[ImageRecord]:
    """The asyncio form of :func:`fetch_images`."""
    fetched = []
    for record in image_records(outcome, kinds, include_job_id):
        try:
            data = await client.download(_url(record))
        except RECOVERABLE as exc:
            _failed(record, exc, on_error)
            continue
        fetched.append(dataclasses.replace(record, data=data))
    return fetched


def _url(record: ImageRecord) -> str:
    if not record.url:
        name = record.metadata.get("image_file_name")
        raise LaminaError(f"image {name!r} of job {record.job_id} has no URL")
    return record.url


def _failed(record: ImageRecord, error: BaseException, on_error: OnError) -> None:
    if on_error == "raise":
        raise error
    label = record.metadata.get("file_name") or record.job_id
    name = record.metadata.get("image_file_name")
    logger.warning("Lamina could not download image %s of %s: %s", name, label, error)
