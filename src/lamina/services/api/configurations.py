"""Saved configurations (``/api/v1/beta/configurations``) and saved webhook configurations
(``/api/v1/beta/webhook-configs``, ``/api/v2/webhook-configs``), per project.

A saved configuration is a named ``parameters`` object tagged by ``product_type``
(``parse_v2``, ``extract_v2``, ``classify_v2``; ``split_v1``, ``spreadsheet_v1`` and
``unknown`` are stored but no Lamina job runs them). Parameters of the three products Lamina
runs are validated when saved, with the same rules as a job's inline configuration, so a saved
configuration that was accepted can always run. Each update bumps ``version``.

Jobs name them with one rule everywhere (parse, extract, classify, v2 batches):
``configuration_id`` = the saved parameters are the base and fields sent inline win;
``parse_config_id`` (extract) = the saved parse configuration of the document parse;
``webhook_configuration_ids`` = saved webhook endpoints, added to inline
``webhook_configurations``. An id that is not in the caller's project → 404; one of another
product → 422 naming the field.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError

from lamina.services.errors import NotFoundError, ValidationFailed
from lamina.services.outbound import OutboundPolicy
from lamina.services.store.db import Database, Page, Row, aware, new_id, utcnow
from lamina.services.store.records import ProjectRecords
from lamina.services.store.tables import (
    configurations_table,
    job_links_table,
    webhook_configs_table,
)
from lamina.types import PaginatedList, SavedConfiguration, WebhookConfig, WebhookConfigRequest

CONFIG_ID_PREFIX = "cfg"
WEBHOOK_ID_PREFIX = "whc"
PRODUCT_TYPES = ("classify_v2", "extract_v2", "parse_v2", "split_v1", "spreadsheet_v1", "unknown")
RUNNABLE = ("parse_v2", "extract_v2", "classify_v2")
WEBHOOK_OUTPUT_FORMATS = ("json", "string")
WEBHOOK_EVENTS = frozenset(
    f"{product}.{state}"
    for product, states in {
        "batch": ("cancelled", "error", "pending", "running", "success"),
        "classify": ("cancelled", "error", "partial_success", "pending", "running", "success"),
        "extract": ("cancelled", "error", "partial_success", "pending", "success"),
        "parse": ("cancelled", "error", "partial_success", "pending", "running", "success"),
        "sheets": ("cancelled", "error", "partial_success", "pending", "success"),
        "split": ("cancelled", "error", "pending", "processing", "success"),
        "verify": ("cancelled", "error", "pending", "running", "success"),
    }.items()
    for state in states
) | {"unmapped_event", "extract.running"}


def link_configuration(db: Database, job: Row, configuration_id: str) -> None:
    with db.begin() as conn:
        conn.execute(
            job_links_table.insert().values(
                job_id=job["id"],
                project_id=job["project_id"],
                kind=job["kind"],
                configuration_id=configuration_id,
            )
        )


def jobs_of_configuration(
    db: Database, project_id: str, kind: str, configuration_id: str
) -> set[str]:
    c = job_links_table.c
    with db.begin() as conn:
        rows = conn.execute(
            sa.select(c.job_id).where(
                c.project_id == project_id, c.kind == kind, c.configuration_id == configuration_id
            )
        )
        return {r[0] for r in rows}


def _errors(exc: ValidationError, prefix: Sequence[str | int]) -> ValidationFailed:
    from lamina.services.errors import validation_errors

    return ValidationFailed(validation_errors(exc, list(prefix)))


def check_parameters(params: Any, loc: Sequence[str | int] = ("parameters",)) -> dict[str, Any]:
    """Validate saved ``parameters`` for their product; returns them as stored."""
    if not isinstance(params, Mapping):
        raise ValidationFailed.single(list(loc), "parameters must be an object", input=params)
    product = params.get("product_type")
    if product not in PRODUCT_TYPES:
        raise ValidationFailed.single(
            [*loc, "product_type"],
            f"product_type must be one of: {', '.join(PRODUCT_TYPES)}",
            input=product,
        )
    body = {k: v for k, v in params.items() if k != "product_type"}
    if product == "parse_v2":
        from lamina.types import ParseConfiguration

        body.setdefault("version", "latest")
        try:
            ParseConfiguration.model_validate(body)
        except ValidationError as exc:
            raise _errors(exc, loc) from exc
    elif product == "extract_v2":
        if not isinstance(body.get("data_schema"), Mapping):
            raise ValidationFailed.single(
                [*loc, "data_schema"], "data_schema is required (a JSON Schema object)", input=None
            )
    elif product == "classify_v2":
        from lamina.services.api.classify_rules import check_classify_configuration

        body = check_classify_configuration(body, loc)
    return {"product_type": product, **body}


def to_saved_configuration(row: Row) -> SavedConfiguration:
    """A saved configuration record as the API's SavedConfiguration (every field set)."""
    return SavedConfiguration(
        id=row["id"],
        name=row["name"],
        parameters=row["parameters"],
        product_type=row["product_type"],
        version=str(row["version"]),
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
    )


def to_webhook_config(row: Row) -> WebhookConfig:
    """A webhook configuration record as the API's WebhookConfig (never its secret)."""
    return WebhookConfig(
        id=row["id"],
        has_secret=bool(row["webhook_signing_secret"]),
        tenant_id=row["project_id"],
        tenant_type="project",
        webhook_url=row["webhook_url"],
        webhook_events=row["webhook_events"],
        webhook_headers=row["webhook_headers"],
        webhook_output_format=row["webhook_output_format"],
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
    )


M = TypeVar("M", SavedConfiguration, WebhookConfig)


def _typed_page(page: Page, convert: Callable[[Row], M]) -> PaginatedList[M]:
    return PaginatedList[M](
        items=[convert(row) for row in page.rows],
        next_page_token=page.next_page_token,
        total_size=page.total_size,
    )


def check_webhook(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The stored columns of a webhook configuration body (422 naming a bad field)."""
    out: dict[str, Any] = {}
    url = body.get("webhook_url")
    if url is not None or not partial:
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ValidationFailed.single(
                ["webhook_url"], "webhook_url must be an http(s) URL", input=url
            )
        out["webhook_url"] = url
    if "webhook_events" in body:
        events = body["webhook_events"]
        if events is not None and (
            not isinstance(events, list) or any(e not in WEBHOOK_EVENTS for e in events)
        ):
            raise ValidationFailed.single(
                ["webhook_events"],
                "webhook_events must be a list of event names such as parse.success",
                input=events,
            )
        out["webhook_events"] = events
    if "webhook_headers" in body:
        headers = body["webhook_headers"]
        if headers is not None and (
            not isinstance(headers, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            raise ValidationFailed.single(
                ["webhook_headers"],
                "webhook_headers must map strings to strings",
                input=headers,
            )
        out["webhook_headers"] = dict(headers) if headers else None
    if "webhook_output_format" in body:
        fmt = body["webhook_output_format"]
        if fmt is not None and fmt not in WEBHOOK_OUTPUT_FORMATS:
            raise ValidationFailed.single(
                ["webhook_output_format"],
                "webhook_output_format must be json or string",
                input=fmt,
            )
        out["webhook_output_format"] = fmt
    if "webhook_signing_secret" in body:
        secret = body["webhook_signing_secret"]
        if secret is not None and not isinstance(secret, str):
            raise ValidationFailed.single(
                ["webhook_signing_secret"],
                "webhook_signing_secret must be a string",
                input=None,
            )
        out["webhook_signing_secret"] = secret or None
    return out


class ConfigurationService:
    """Saved configurations and webhook configurations of each project."""

    def __init__(self, db: Database, policy: OutboundPolicy | None = None) -> None:
        self.db = db
        self.saved_records = ProjectRecords(db, configurations_table)
        self.webhook_records = ProjectRecords(db, webhook_configs_table)
        self.policy = policy or OutboundPolicy()
        """Where saved webhooks may point (the operator's outbound policy)."""

    # saved configurations -------------------------------------------------------------------

    def create(self, project_id: str, name: Any, parameters: Any) -> SavedConfiguration:
        if not isinstance(name, str) or not name.strip():
            raise ValidationFailed.single(["name"], "name is required", input=name)
        params = check_parameters(parameters)
        now = utcnow()
        row = {
            "id": new_id(CONFIG_ID_PREFIX),
            "project_id": project_id,
            "name": name,
            "product_type": params["product_type"],
            "parameters": params,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        self.saved_records.insert(row)
        return to_saved_configuration(row)

    def _row(self, project_id: str, config_id: str) -> Row:
        found = self.saved_records.get(project_id, config_id)
        if found is None:
            raise NotFoundError(f"Configuration not found: {config_id}")
        return found

    def get(self, project_id: str, config_id: str) -> SavedConfiguration:
        return to_saved_configuration(self._row(project_id, config_id))

    def update(
        self, project_id: str, config_id: str, name: Any, parameters: Any
    ) -> SavedConfiguration:
        row = self._row(project_id, config_id)
        values: dict[str, Any] = {"updated_at": utcnow(), "version": row["version"] + 1}
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                raise ValidationFailed.single(["name"], "name must not be empty", input=name)
            values["name"] = name
        if parameters is not None:
            params = check_parameters(parameters)
            values["parameters"] = params
            values["product_type"] = params["product_type"]
        self.saved_records.update(project_id, config_id, values)
        return to_saved_configuration({**row, **values})

    def delete(self, project_id: str, config_id: str) -> None:
        if not self.saved_records.delete(project_id, config_id):
            raise NotFoundError(f"Configuration not found: {config_id}")

    def list(
        self,
        project_id: str,
        *,
        name: str | None,
        product_types: Sequence[str] | None,
        page_size: int | None,
        page_token: str | None,
    ) -> PaginatedList[SavedConfiguration]:
        c = configurations_table.c
        where: list[sa.ColumnElement[bool]] = []
        if name:
            where.append(c.name == name)
        if product_types:
            where.append(c.product_type.in_(list(product_types)))
        page = self.saved_records.page(
            project_id,
            where,
            page_size=50 if page_size is None else page_size,
            page_token=page_token,
        )
        return _typed_page(page, to_saved_configuration)

    def parameters_for(
        self, project_id: str, config_id: str, product: str, loc: Sequence[str | int]
    ) -> dict[str, Any]:
        """The saved parameters (without ``product_type``) of a ``product`` configuration."""
        row = self._row(project_id, config_id)
        if row["product_type"] != product:
            raise ValidationFailed.single(
                list(loc),
                f"Configuration {config_id} is a {row['product_type']} configuration; "
                f"a {product} configuration is needed here",
                input=config_id,
            )
        return {k: v for k, v in row["parameters"].items() if k != "product_type"}

    # webhook configurations ------------------------------------------------------------------

    def create_webhook(self, project_id: str, body: WebhookConfigRequest) -> WebhookConfig:
        values = check_webhook(body.model_dump(exclude_unset=True), partial=False)
        self._check_outbound(values)
        now = utcnow()
        row = {
            "id": new_id(WEBHOOK_ID_PREFIX),
            "project_id": project_id,
            "webhook_events": None,
            "webhook_headers": None,
            "webhook_output_format": None,
            "webhook_signing_secret": None,
            **values,
            "created_at": now,
            "updated_at": now,
        }
        self.webhook_records.insert(row)
        return to_webhook_config(row)

    def _webhook_row(self, project_id: str, config_id: str) -> Row:
        found = self.webhook_records.get(project_id, config_id)
        if found is None:
            raise NotFoundError(f"Webhook configuration not found: {config_id}")
        return found

    def get_webhook(self, project_id: str, config_id: str) -> WebhookConfig:
        return to_webhook_config(self._webhook_row(project_id, config_id))

    def update_webhook(
        self, project_id: str, config_id: str, body: WebhookConfigRequest
    ) -> WebhookConfig:
        row = self._webhook_row(project_id, config_id)
        given = body.model_dump(exclude_unset=True)
        values = {**check_webhook(given, partial=True), "updated_at": utcnow()}
        self._check_outbound(values)
        self.webhook_records.update(project_id, config_id, values)
        return to_webhook_config({**row, **values})

    def delete_webhook(self, project_id: str, config_id: str) -> None:
        if not self.webhook_records.delete(project_id, config_id):
            raise NotFoundError(f"Webhook configuration not found: {config_id}")

    def list_webhooks(
        self, project_id: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> PaginatedList[WebhookConfig]:
        page = self.webhook_records.page(
            project_id, page_size=1000 if page_size is None else page_size, page_token=page_token
        )
        return _typed_page(page, to_webhook_config)

    def job_webhooks(
        self, project_id: str, inline: Any, ids: Sequence[str] | None, prefix: Sequence[str]
    ) -> builtins.list[dict[str, Any]]:
        """Every endpoint a job notifies: its inline ``webhook_configurations`` and the saved
        ``webhook_configuration_ids`` (``prefix`` locates both fields in the request), once
        each. The one place a job's webhooks are resolved."""
        from lamina.services.api.webhooks import resolve_webhooks

        ids_loc = [*prefix, "webhook_configuration_ids"]
        saved = self.webhooks_for(project_id, ids, ids_loc)
        return resolve_webhooks(
            ([*prefix, "webhook_configurations"], inline), (ids_loc, saved), policy=self.policy
        )

    def _check_outbound(self, values: Mapping[str, Any]) -> None:
        """A saved webhook obeys the same address policy and header rules as an inline one."""
        from lamina.services.api.webhooks import check_headers, check_url_at_door

        if values.get("webhook_url"):
            try:
                check_url_at_door(values["webhook_url"], self.policy, what="webhook_url")
            except ValueError as exc:
                raise ValidationFailed.single(
                    ["webhook_url"], str(exc), input=values["webhook_url"]
                ) from exc
        if values.get("webhook_headers"):
            check_headers(values["webhook_headers"], ["webhook_headers"])

    def webhooks_for(
        self, project_id: str, ids: Sequence[str] | None, loc: Sequence[str | int]
    ) -> builtins.list[dict[str, Any]]:
        """Saved webhook configurations by id, in the inline ``webhook_configurations`` shape."""
        out = []
        for config_id in ids or ():
            if not isinstance(config_id, str):
                raise ValidationFailed.single(list(loc), "ids must be strings", input=config_id)
            row = self._webhook_row(project_id, config_id)
            out.append(
                {
                    "webhook_url": row["webhook_url"],
                    "webhook_events": row["webhook_events"],
                    "webhook_headers": row["webhook_headers"] or {},
                    "webhook_output_format": row["webhook_output_format"] or "string",
                    "webhook_signing_secret": row["webhook_signing_secret"],
                }
            )
        return out


def merged(saved: Mapping[str, Any], inline: Mapping[str, Any]) -> dict[str, Any]:
    """Saved parameters with the inline fields on top (objects merged key by key)."""
    out = dict(saved)
    for key, value in inline.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
