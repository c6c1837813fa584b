"""Saved configuration routes (``/api/v1/beta/configurations``) and saved webhook configuration
routes (``/api/v1/beta/webhook-configs``, ``/api/v2/webhook-configs``): thin wrappers over
:class:`ConfigurationService`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from lamina.server.deps import get_project, services_dep
from lamina.server.openapi import errors, ok
from lamina.services.api.parse import split_csv
from lamina.services.container import Services
from lamina.types import (
    ConfigurationRequest,
    PaginatedList,
    SavedConfiguration,
    WebhookConfig,
    WebhookConfigRequest,
)

router = APIRouter(tags=["configurations"], responses=errors(400, 401, 422))
# The response model is the return annotation; every field is set by the service, so the JSON
# is the same as before it was typed.
_TYPED: dict[str, Any] = {"response_model_exclude_unset": True}

_CONFIGS = "/api/v1/beta/configurations"
_WEBHOOKS = "/api/v1/beta/webhook-configs"


@router.post(_CONFIGS, responses=ok(SavedConfiguration), **_TYPED)
def create_configuration(
    body: ConfigurationRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> SavedConfiguration:
    return services.configurations.create(project_id, body.name, body.parameters)


@router.get(_CONFIGS, responses=ok(PaginatedList[SavedConfiguration]), **_TYPED)
def list_configurations(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    name: str | None = Query(None),
    product_type: list[str] | None = Query(None),
    latest_only: bool | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PaginatedList[SavedConfiguration]:
    """``latest_only`` is accepted: only the latest version of a configuration is kept."""
    return services.configurations.list(
        project_id,
        name=name,
        product_types=split_csv(product_type),
        page_size=page_size,
        page_token=page_token,
    )


@router.get(_CONFIGS + "/{config_id}", responses=ok(SavedConfiguration, 404), **_TYPED)
def get_configuration(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> SavedConfiguration:
    return services.configurations.get(project_id, config_id)


@router.put(_CONFIGS + "/{config_id}", responses=ok(SavedConfiguration, 404), **_TYPED)
def update_configuration(
    config_id: str,
    body: ConfigurationRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> SavedConfiguration:
    return services.configurations.update(project_id, config_id, body.name, body.parameters)


@router.delete(_CONFIGS + "/{config_id}", status_code=204, responses=errors(404))
def delete_configuration(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    services.configurations.delete(project_id, config_id)
    return Response(status_code=204)


@router.post(_WEBHOOKS, responses=ok(WebhookConfig), **_TYPED)
def create_webhook_config(
    body: WebhookConfigRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> WebhookConfig:
    return services.configurations.create_webhook(project_id, body)


@router.get(_WEBHOOKS, responses=ok(list[WebhookConfig]), **_TYPED)
def list_webhook_configs(
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> list[WebhookConfig]:
    """Every webhook configuration of the project, as a plain list (the v1 shape)."""
    return services.configurations.list_webhooks(project_id).items


@router.get("/api/v2/webhook-configs", responses=ok(PaginatedList[WebhookConfig]), **_TYPED)
def list_webhook_configs_paginated(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    include_total: bool | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> PaginatedList[WebhookConfig]:
    return services.configurations.list_webhooks(
        project_id, page_size=page_size or 50, page_token=page_token
    )


@router.get(_WEBHOOKS + "/{config_id}", responses=ok(WebhookConfig, 404), **_TYPED)
def get_webhook_config(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> WebhookConfig:
    return services.configurations.get_webhook(project_id, config_id)


@router.put(_WEBHOOKS + "/{config_id}", responses=ok(WebhookConfig, 404), **_TYPED)
def update_webhook_config(
    config_id: str,
    body: WebhookConfigRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> WebhookConfig:
    return services.configurations.update_webhook(project_id, config_id, body)


@router.delete(_WEBHOOKS + "/{config_id}", status_code=204, responses=errors(404))
def delete_webhook_config(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    services.configurations.delete_webhook(project_id, config_id)
    return Response(status_code=204)
