"""Batch routes: ``/api/v1/beta/batch-processing`` (the seed's six endpoints) and
``/api/v2/batches`` (what the official SDK calls). Thin wrappers over BatchService."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from lamina.server.deps import get_project
from lamina.server.openapi import errors, ok
from lamina.server.routes_directories import get_batch
from lamina.services.api.parse import split_csv
from lamina.services.batch.service import BatchService
from lamina.services.batch.system import BatchSystem
from lamina.services.batch.wire import processed_count, to_batch_job, to_batch_v2
from lamina.services.store.db import MAX_OFFSET, MAX_TOKEN_LENGTH
from lamina.types import (
    BatchCancelRequest,
    BatchCancelResponse,
    BatchCreateRequest,
    BatchItemList,
    BatchItemStatus,
    BatchJob,
    BatchJobList,
    BatchJobStatus,
    BatchJobStatusResponse,
    BatchJobType,
    BatchV2,
    BatchV2CreateRequest,
    ItemProcessingResults,
    PaginatedList,
)

router = APIRouter(
    prefix="/api/v1/beta/batch-processing", tags=["batch"], responses=errors(401, 422)
)
router_v2 = APIRouter(prefix="/api/v2/batches", tags=["batch"], responses=errors(401, 422))
# The response model is the return annotation; only the fields the service set are written
# (a v2 batch has ``results`` only when expanded), so the JSON is the same as before it was typed.
_TYPED: dict[str, Any] = {"response_model_exclude_unset": True}


def _batches(batch: BatchSystem = Depends(get_batch)) -> BatchService:
    return batch.batches


# --- v1 beta (seed) ------------------------------------------------------------------------------


@router.post("", responses=ok(BatchJob, 400, 404), **_TYPED)
def create_batch_job(
    body: BatchCreateRequest,
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchJob:
    """Body: ``job_config`` (parse or classify), and ``directory_id`` or ``item_ids``."""
    return to_batch_job(batches.create(project_id, body), {})


@router.get("", responses=ok(BatchJobList), **_TYPED)
def list_batch_jobs(
    directory_id: str | None = Query(None),
    job_type: BatchJobType | None = Query(None),
    status: BatchJobStatus | None = Query(None),
    limit: int | None = Query(None, ge=1, le=1000),
    offset: int | None = Query(None, ge=0, le=MAX_OFFSET),
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchJobList:
    return batches.list(
        project_id,
        directory_id=directory_id,
        job_type=job_type,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/items/{item_id}/processing-results",
    responses=ok(ItemProcessingResults, 404),
    **_TYPED,
)
def get_item_processing_results(
    item_id: str,
    job_type: BatchJobType | None = Query(None),
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> ItemProcessingResults:
    return batches.processing_results(project_id, item_id, job_type=job_type)


@router.get("/{job_id}", responses=ok(BatchJobStatusResponse, 404), **_TYPED)
def get_batch_job_status(
    job_id: str,
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchJobStatusResponse:
    return batches.status(project_id, job_id)


@router.post("/{job_id}/cancel", responses=ok(BatchCancelResponse, 400, 404), **_TYPED)
def cancel_batch_job(
    job_id: str,
    body: BatchCancelRequest | None = Body(None),
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchCancelResponse:
    reason = body.reason if body is not None else None
    row = batches.cancel(project_id, job_id, str(reason) if reason else None)
    counts = batches.counts(job_id)
    message = f"Batch job {job_id} cancelled" + (f": {reason}" if reason else "")
    return BatchCancelResponse(
        job_id=job_id,
        message=message,
        processed_items=processed_count(counts),
        status=row["status"],
    )


@router.get("/{job_id}/items", responses=ok(BatchItemList, 404), **_TYPED)
def list_batch_job_items(
    job_id: str,
    status: BatchItemStatus | None = Query(None),
    limit: int | None = Query(None, ge=1, le=1000),
    offset: int | None = Query(None, ge=0, le=MAX_OFFSET),
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchItemList:
    return batches.items(project_id, job_id, status=status, limit=limit, offset=offset)


# --- v2 (SDK) ---------------------------------------------------------------------------------


@router_v2.post("", responses=ok(BatchV2, 400, 404), **_TYPED)
def create_batch_v2(
    body: BatchV2CreateRequest,
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchV2:
    return to_batch_v2(batches.create_v2(project_id, body))


@router_v2.get("", responses=ok(PaginatedList[BatchV2]), **_TYPED)
def list_batches_v2(
    source_directory_id: str | None = Query(None),
    status: str | None = Query(None),
    page_size: int | None = Query(None, ge=1, le=1000),
    page_token: str | None = Query(None, max_length=MAX_TOKEN_LENGTH),
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> PaginatedList[BatchV2]:
    return batches.list_v2(
        project_id,
        source_directory_id=source_directory_id,
        status=status,
        page_size=page_size,
        page_token=page_token,
    )


@router_v2.get("/{batch_id}", responses=ok(BatchV2, 404), **_TYPED)
def get_batch_v2(
    batch_id: str,
    expand: list[str] | None = Query(None),
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchV2:
    row = batches.get_row(project_id, batch_id, api="v2")
    results = batches.v2_results(batch_id) if "results" in split_csv(expand) else None
    return to_batch_v2(row, results)


@router_v2.post("/{batch_id}/cancel", responses=ok(BatchV2, 400, 404), **_TYPED)
def cancel_batch_v2(
    batch_id: str,
    project_id: str = Depends(get_project),
    batches: BatchService = Depends(_batches),
) -> BatchV2:
    batches.get_row(project_id, batch_id, api="v2")
    return to_batch_v2(batches.cancel(project_id, batch_id))
