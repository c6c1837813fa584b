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

_CONFIGS = "/api/v1/beta/configurations"
_WEBHOOKS = "/api/v1/beta/webhook-configs"


@router.post(_CONFIGS, response_model=None, responses=ok(SavedConfiguration))
def create_configuration(
    body: ConfigurationRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.configurations.create(project_id, body.name, body.parameters)


@router.get(_CONFIGS, response_model=None, responses=ok(PaginatedList[SavedConfiguration]))
def list_configurations(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    name: str | None = Query(None),
    product_type: list[str] | None = Query(None),
    latest_only: bool | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    """``latest_only`` is accepted: only the latest version of a configuration is kept."""
    return services.configurations.list(
        project_id,
        name=name,
        product_types=split_csv(product_type),
        page_size=page_size,
        page_token=page_token,
    )


@router.get(_CONFIGS + "/{config_id}", response_model=None, responses=ok(SavedConfiguration, 404))
def get_configuration(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.configurations.get(project_id, config_id)


@router.put(_CONFIGS + "/{config_id}", response_model=None, responses=ok(SavedConfiguration, 404))
def update_configuration(
    config_id: str,
    body: ConfigurationRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.configurations.update(project_id, config_id, body.name, body.parameters)


@router.delete(_CONFIGS + "/{config_id}", status_code=204, responses=errors(404))
def delete_configuration(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    services.configurations.delete(project_id, config_id)
    return Response(status_code=204)


@router.post(_WEBHOOKS, response_model=None, responses=ok(WebhookConfig))
def create_webhook_config(
    body: WebhookConfigRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.configurations.create_webhook(project_id, body.model_dump(exclude_unset=True))


@router.get(_WEBHOOKS, response_model=None, responses=ok(list[WebhookConfig]))
def list_webhook_configs(
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> list[dict[str, Any]]:
    """Every webhook configuration of the project, as a plain list (the v1 shape)."""
    items: list[dict[str, Any]] = services.configurations.list_webhooks(project_id)["items"]
    return items


@router.get(
    "/api/v2/webhook-configs", response_model=None, responses=ok(PaginatedList[WebhookConfig])
)
def list_webhook_configs_paginated(
    page_size: int | None = Query(None),
    page_token: str | None = Query(None),
    include_total: bool | None = Query(None),
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.configurations.list_webhooks(
        project_id, page_size=page_size or 50, page_token=page_token
    )


@router.get(_WEBHOOKS + "/{config_id}", response_model=None, responses=ok(WebhookConfig, 404))
def get_webhook_config(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.configurations.get_webhook(project_id, config_id)


@router.put(_WEBHOOKS + "/{config_id}", response_model=None, responses=ok(WebhookConfig, 404))
def update_webhook_config(
    config_id: str,
    body: WebhookConfigRequest,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> dict[str, Any]:
    return services.configurations.update_webhook(
        project_id, config_id, body.model_dump(exclude_unset=True)
    )


@router.delete(_WEBHOOKS + "/{config_id}", status_code=204, responses=errors(404))
def delete_webhook_config(
    config_id: str,
    project_id: str = Depends(get_project),
    services: Services = Depends(services_dep),
) -> Response:
    services.configurations.delete_webhook(project_id, config_id)
    return Response(status_code=204)
