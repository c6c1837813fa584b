"""Wire models of Classify v2, saved configurations, saved webhook configurations and the
classic parse job status (the shapes of SDK 2.19 and llama-cloud-services 0.6)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lamina.types._base import StoredModel, WireModel
from lamina.types._common import WireTime

ClassifyJobStatus = Literal["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
ProductType = Literal[
    "classify_v2", "extract_v2", "parse_v2", "split_v1", "spreadsheet_v1", "unknown"
]


class ClassifyRule(WireModel):
    type: str = Field(description="Document type to assign when the rule matches.")
    description: str = Field(description="What identifies the type, in plain words.")


class ClassifyParsing(StoredModel):
    lang: str | None = Field(default=None, description="Language code for OCR.")
    max_pages: int | None = Field(default=None, ge=1, description="Read at most N pages.")
    target_pages: str | int | None = Field(
        default=None, description='1-based pages, e.g. "1,3-5" (a lone page may be a number).'
    )


class ClassifyConfiguration(StoredModel):
    rules: list[ClassifyRule] = Field(description="At least one rule.")
    mode: str | None = Field(
        default=None, description="FAST (rules, offline) or MULTIMODAL (the configured model)."
    )
    parsing_configuration: ClassifyParsing | None = None


class ClassifyCreateRequest(WireModel):
    """Body of ``POST /api/v2/classify``."""

    file_input: str | None = Field(default=None, description="dfl-… file or pjb-… parse job.")
    file_id: str | None = Field(default=None, description="Deprecated name of file_input.")
    parse_job_id: str | None = Field(default=None, description="Deprecated name of file_input.")
    configuration: dict[str, Any] | None = Field(
        default=None, description="A ClassifyConfiguration (checked by the service)."
    )
    configuration_id: str | None = Field(default=None, description="A saved classify_v2 id.")
    transaction_id: str | None = Field(default=None, description="Idempotency key.")
    webhook_configurations: list[dict[str, Any]] | None = None
    webhook_configuration_ids: list[str] | None = None


class ClassifyResult(WireModel):
    type: str | None = Field(description="The matched rule type; null when none matched.")
    confidence: float = Field(ge=0, le=1)
    reasoning: str


class ClassifyUsage(WireModel):
    credits: float | None = None
    parse_credits: float | None = None


class ClassifyJob(WireModel):
    """A classify job as create, get, list and cancel return it."""

    id: str
    project_id: str
    user_id: str
    status: ClassifyJobStatus
    configuration: ClassifyConfiguration
    configuration_id: str | None = None
    document_input_type: Literal["file_id", "parse_job_id", "url"]
    file_input: str
    parse_job_id: str | None = None
    transaction_id: str | None = None
    error_message: str | None = None
    result: ClassifyResult | None = None
    created_at: WireTime | None = None
    updated_at: WireTime | None = None
    usage: ClassifyUsage | None = None


class JobDeleted(WireModel):
    id: str
    project_id: str | None = None


class ConfigurationRequest(WireModel):
    """Body of ``POST`` / ``PUT /api/v1/beta/configurations``."""

    name: str | None = None
    parameters: dict[str, Any] | None = Field(
        default=None, description="Tagged by product_type; checked like an inline configuration."
    )


class SavedConfiguration(WireModel):
    id: str
    name: str
    parameters: dict[str, Any]
    product_type: ProductType
    version: str
    created_at: WireTime | None = None
    updated_at: WireTime | None = None


class WebhookConfigRequest(WireModel):
    """Body of ``POST`` / ``PUT /api/v1/beta/webhook-configs``."""

    webhook_url: str | None = None
    webhook_events: list[str] | None = None
    webhook_headers: dict[str, str] | None = None
    webhook_output_format: str | None = None
    webhook_signing_secret: str | None = None


class WebhookConfig(WireModel):
    """A saved webhook configuration; the signing secret is never returned."""

    id: str
    has_secret: bool
    tenant_id: str
    tenant_type: Literal["project"]
    webhook_url: str
    webhook_events: list[str] | None = None
    webhook_headers: dict[str, str] | None = None
    webhook_output_format: Literal["json", "string"] | None = None
    created_at: WireTime | None = None
    updated_at: WireTime | None = None


class ClassicParsingJob(WireModel):
    """The classic API's job status (``llama-cloud-services`` 0.6)."""

    id: str
    status: Literal["PENDING", "SUCCESS", "ERROR", "PARTIAL_SUCCESS", "CANCELLED"]
    error_code: str | None = None
    error_message: str | None = None
