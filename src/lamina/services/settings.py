"""Settings shared by the server, the services and the worker processes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lamina.services.outbound import OutboundPolicy
from lamina.services.request_limits import RequestLimits

DEFAULT_PROJECT_ID = "default"
"""The project every job and file belongs to when authentication is disabled."""
DEFAULT_TRUSTED_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1", "lamina.embedded")
"""Hosts presigned URLs may be built for without configuration (loopback, the embedded mode)."""


def _default_workers() -> int:
    return min(2, os.cpu_count() or 1)


def default_data_dir() -> Path:
    """``LAMINA_HOME`` or the user cache dir (``~/.cache/lamina``)."""
    env = os.environ.get("LAMINA_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lamina"


def parse_api_keys(specs: str | list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn ``KEY[:PROJECT]`` specs (a list, or one comma-separated string) into key → project.

    A key without a project maps to :data:`DEFAULT_PROJECT_ID`.
    """
    items = specs.split(",") if isinstance(specs, str) else list(specs)
    keys: dict[str, str] = {}
    for raw in items:
        spec = raw.strip()
        if not spec:
            continue
        key, _, project = spec.partition(":")
        keys[key.strip()] = project.strip() or DEFAULT_PROJECT_ID
    return keys


def parse_list(text: str) -> tuple[str, ...]:
    """A comma-separated setting as a tuple of its non-empty parts."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_bool(name: str, text: str) -> bool:
    """A boolean setting: 1/true/yes/on or 0/false/no/off."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={text!r} is not a boolean (use true or false)")


@dataclass(frozen=True)
class ServerSettings:
    """How a Lamina server (or the embedded one) runs.

    ``workers=0`` is inline mode: jobs run in a background thread of the server process (for
    tests and debugging; job timeouts are not enforced there). An empty ``api_keys`` disables
    authentication and puts everything in the ``default`` project.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    workers: int = field(default_factory=_default_workers)
    api_keys: Mapping[str, str] = field(default_factory=dict)
    public_base_url: str | None = None
    presign_ttl_seconds: int = 3600
    max_upload_bytes: int = 200 * 1024 * 1024
    job_timeout_seconds: float = 1800.0
    max_attempts: int = 3
    lease_seconds: float = 30.0
    poll_interval_seconds: float = 2.0
    model_url: str | None = None
    model_name: str | None = None
    model_api_key: str | None = field(default=None, repr=False)
    model_timeout_seconds: float = 120.0
    source_fetch_timeout_seconds: float = 120.0
    """Total time for downloading a ``source_url`` (every redirect and read together)."""
    outbound_allow: tuple[str, ...] = ()
    """Non-public networks, addresses and host names outbound requests (``source_url``,
    webhooks) may reach (``*`` = any); public addresses are always allowed."""
    outbound_allow_caller_proxy: bool = False
    """Whether a request's own ``http_proxy`` is used (refused by default)."""
    max_json_body_bytes: int = 4 * 1024 * 1024
    """Largest request body that is not a multipart upload (413 over it)."""
    max_metadata_bytes: int = 16 * 1024
    """Largest ``user_metadata`` / directory metadata, as JSON (422 over it)."""
    max_configuration_bytes: int = 1024 * 1024
    """Largest stored configuration (parse options, extract configuration, batch job config)."""
    max_batch_item_ids: int = 10_000
    """Most ``item_ids`` in one batch request (a directory has no such limit)."""
    max_running_jobs_per_project: int = 0
    """Jobs one project may have running at once (0: any free worker; claiming is fair
    between projects either way)."""
    max_queued_jobs_per_project: int = 10_000
    """Jobs one project may have waiting (PENDING); more → 429 (0: no limit)."""
    rate_limit_per_second: float = 50.0
    """Requests per second per API key (client address without keys), sustained; 0: off."""
    rate_limit_burst: int = 300
    """Requests per API key allowed in a burst above the sustained rate."""
    create_rate_limit_per_second: float = 20.0
    """Job and batch creations per second per API key, sustained; 0: off."""
    create_rate_limit_burst: int = 200
    trusted_hosts: tuple[str, ...] = DEFAULT_TRUSTED_HOSTS
    """Host names a request may name in ``Host`` for presigned URLs built from it when
    ``public_base_url`` is not set (``*.suffix`` and ``*`` allowed)."""
    max_connections: int = 512
    """Open client connections ``lamina serve`` accepts at once (uvicorn's
    ``limit_concurrency``); more get 503."""
    header_timeout_seconds: float = 10.0
    """Time a client has to send a request's headers (slowloris guard)."""
    body_timeout_seconds: float = 60.0
    """Longest pause while a request body arrives before the server answers 408."""
    keep_alive_timeout_seconds: int = 5
    """Idle time a keep-alive connection is kept between requests."""
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 8
    webhook_concurrency: int = 16
    """Webhook deliveries in flight at once (all projects)."""
    webhook_project_concurrency: int = 4
    """Webhook deliveries in flight at once for one project."""
    batch_max_concurrency: int = 16
    """Parse jobs one batch keeps in the queue at once (its window)."""
    batch_max_file_bytes: int | None = None
    """Batch items larger than this are skipped (``size_limit_exceeded``); None: no limit."""
    max_pages_per_job: int = 5000
    max_image_pixels: int = 100_000_000
    auth: bool = True
    """False turns authentication off whatever keys exist (the embedded server)."""
    broker_url: str | None = None
    """Celery broker (``amqp://...`` or ``redis://...``): this server is an API replica that
    hands jobs to ``lamina worker`` processes instead of running its own workers (the
    ``distributed`` extra; ``database_url`` should then be PostgreSQL shared by all)."""
    broker_queue: str = "lamina"
    """The broker queue replicas publish to and workers consume (one per deployment)."""
    max_inflight_per_project: int = 8
    """With a broker: jobs of one project handed to the workers at once (queued in the broker
    or running); the rest wait in the database and are released round-robin by project."""
    metrics: bool = False
    """Serve Prometheus metrics at ``/metrics`` without authentication (the ``distributed``
    extra; expose the port to the monitoring network only)."""
    storage_url: str | None = None
    """``s3://bucket/prefix``: uploads and results in S3-compatible object storage (the ``s3``
    extra), shared by every replica and worker; ``data_dir`` is then only local staging."""
    s3_endpoint_url: str | None = None
    """The object store's endpoint (MinIO, Ceph, R2, ...); None: AWS S3."""
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    """None: boto3's own chain (``AWS_ACCESS_KEY_ID``, profiles, instance roles)."""
    s3_secret_access_key: str | None = field(default=None, repr=False)
    s3_cache_bytes: int = 1 << 30
    """With ``s3://`` storage: the local copies of result files fetched for downloads are kept
    up to this size; the least recently used jobs' copies are removed beyond it."""
    durable_writes: bool = True
    """False skips the disk sync after each upload and result file (the embedded server,
    whose data dir is a local cache; renames still keep every file whole)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().resolve())
        if self.workers < 0:
            raise ValueError("workers must be >= 0")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.max_pages_per_job < 1 or self.max_image_pixels < 1 or self.max_upload_bytes < 1:
            raise ValueError("max_pages_per_job, max_image_pixels, max_upload_bytes must be >= 1")
        object.__setattr__(self, "outbound_allow", tuple(self.outbound_allow))
        object.__setattr__(self, "trusted_hosts", tuple(h.lower() for h in self.trusted_hosts))
        self.outbound_policy  # noqa: B018  (an invalid allow-list entry fails here, at start)
        if self.webhook_concurrency < 1 or self.webhook_project_concurrency < 1:
            raise ValueError("webhook_concurrency and webhook_project_concurrency must be >= 1")

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``lamina.db`` (SQLite) in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'lamina.db'}"

    @property
    def storage_options(self) -> dict[str, str | int | None]:
        """The object store's settings, as :func:`~lamina.services.store.storage.open_storage`
        takes them."""
        return {
            "endpoint_url": self.s3_endpoint_url,
            "region": self.s3_region,
            "access_key_id": self.s3_access_key_id,
            "secret_access_key": self.s3_secret_access_key,
            "cache_bytes": self.s3_cache_bytes,
        }

    @property
    def request_limits(self) -> RequestLimits:
        """The caps the services apply to each request."""
        return RequestLimits(
            self.max_metadata_bytes,
            self.max_configuration_bytes,
            self.max_batch_item_ids,
            max_queued_jobs_per_project=self.max_queued_jobs_per_project,
        )

    @property
    def outbound_policy(self) -> OutboundPolicy:
        """The address policy of ``source_url`` fetches and webhook deliveries."""
        return OutboundPolicy(self.outbound_allow, self.outbound_allow_caller_proxy)

    @property
    def auth_enabled(self) -> bool:
        """Whether start-up keys are configured (keys stored in the database also turn auth on)."""
        return self.auth and bool(self.api_keys)

    def with_changes(self, **changes: Any) -> ServerSettings:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Read ``LAMINA_*`` variables; keyword overrides win over the environment.

        ``LAMINA_HOME`` / ``LAMINA_DATA_DIR``, ``LAMINA_DATABASE_URL``, ``LAMINA_WORKERS``,
        ``LAMINA_API_KEYS`` (``key[:project],...``), ``LAMINA_PUBLIC_BASE_URL``,
        ``LAMINA_PRESIGN_TTL_SECONDS``, ``LAMINA_MAX_UPLOAD_BYTES``,
        ``LAMINA_JOB_TIMEOUT_SECONDS``, ``LAMINA_MAX_ATTEMPTS``, ``LAMINA_LEASE_SECONDS``,
        ``LAMINA_POLL_INTERVAL_SECONDS``, ``LAMINA_MODEL_URL``, ``LAMINA_MODEL_NAME``,
        ``LAMINA_MODEL_API_KEY``, ``LAMINA_MODEL_TIMEOUT_SECONDS``,
        ``LAMINA_MAX_PAGES_PER_JOB``, ``LAMINA_MAX_IMAGE_PIXELS``, ``LAMINA_BROKER_URL``,
        ``LAMINA_BROKER_QUEUE``, ``LAMINA_MAX_INFLIGHT_PER_PROJECT``, ``LAMINA_METRICS``,
        ``LAMINA_STORAGE_URL``, ``LAMINA_S3_ENDPOINT_URL``, ``LAMINA_S3_REGION``,
        ``LAMINA_S3_ACCESS_KEY_ID``, ``LAMINA_S3_SECRET_ACCESS_KEY``,
        and the security settings of docs/security.md: ``LAMINA_SOURCE_FETCH_TIMEOUT_SECONDS``,
        ``LAMINA_OUTBOUND_ALLOW`` and ``LAMINA_TRUSTED_HOSTS`` (comma lists),
        ``LAMINA_OUTBOUND_ALLOW_CALLER_PROXY``, ``LAMINA_MAX_*`` (body, metadata,
        configuration, item ids, jobs per project, connections), ``LAMINA_RATE_LIMIT_*``,
        ``LAMINA_CREATE_RATE_LIMIT_*``, ``LAMINA_*_TIMEOUT_SECONDS``, ``LAMINA_WEBHOOK_*``.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        data_dir = env.get("LAMINA_DATA_DIR") or env.get("LAMINA_HOME")
        if data_dir:
            values["data_dir"] = Path(data_dir)
        strings = {
            "LAMINA_DATABASE_URL": "database_url",
            "LAMINA_PUBLIC_BASE_URL": "public_base_url",
            "LAMINA_MODEL_URL": "model_url",
            "LAMINA_MODEL_NAME": "model_name",
            "LAMINA_MODEL_API_KEY": "model_api_key",
            "LAMINA_BROKER_URL": "broker_url",
            "LAMINA_BROKER_QUEUE": "broker_queue",
            "LAMINA_STORAGE_URL": "storage_url",
            "LAMINA_S3_ENDPOINT_URL": "s3_endpoint_url",
            "LAMINA_S3_REGION": "s3_region",
            "LAMINA_S3_ACCESS_KEY_ID": "s3_access_key_id",
            "LAMINA_S3_SECRET_ACCESS_KEY": "s3_secret_access_key",
        }
        for var, name in strings.items():
            if env.get(var):
                values[name] = env[var]
        numbers: dict[str, tuple[str, type]] = {
            "LAMINA_WORKERS": ("workers", int),
            "LAMINA_PRESIGN_TTL_SECONDS": ("presign_ttl_seconds", int),
            "LAMINA_MAX_UPLOAD_BYTES": ("max_upload_bytes", int),
            "LAMINA_JOB_TIMEOUT_SECONDS": ("job_timeout_seconds", float),
            "LAMINA_MAX_ATTEMPTS": ("max_attempts", int),
            "LAMINA_LEASE_SECONDS": ("lease_seconds", float),
            "LAMINA_POLL_INTERVAL_SECONDS": ("poll_interval_seconds", float),
            "LAMINA_MODEL_TIMEOUT_SECONDS": ("model_timeout_seconds", float),
            "LAMINA_BATCH_MAX_CONCURRENCY": ("batch_max_concurrency", int),
            "LAMINA_BATCH_MAX_FILE_BYTES": ("batch_max_file_bytes", int),
            "LAMINA_MAX_PAGES_PER_JOB": ("max_pages_per_job", int),
            "LAMINA_MAX_IMAGE_PIXELS": ("max_image_pixels", int),
            "LAMINA_SOURCE_FETCH_TIMEOUT_SECONDS": ("source_fetch_timeout_seconds", float),
            "LAMINA_MAX_JSON_BODY_BYTES": ("max_json_body_bytes", int),
            "LAMINA_MAX_METADATA_BYTES": ("max_metadata_bytes", int),
            "LAMINA_MAX_CONFIGURATION_BYTES": ("max_configuration_bytes", int),
            "LAMINA_MAX_BATCH_ITEM_IDS": ("max_batch_item_ids", int),
            "LAMINA_MAX_RUNNING_JOBS_PER_PROJECT": ("max_running_jobs_per_project", int),
            "LAMINA_MAX_QUEUED_JOBS_PER_PROJECT": ("max_queued_jobs_per_project", int),
            "LAMINA_RATE_LIMIT_PER_SECOND": ("rate_limit_per_second", float),
            "LAMINA_RATE_LIMIT_BURST": ("rate_limit_burst", int),
            "LAMINA_CREATE_RATE_LIMIT_PER_SECOND": ("create_rate_limit_per_second", float),
            "LAMINA_CREATE_RATE_LIMIT_BURST": ("create_rate_limit_burst", int),
            "LAMINA_MAX_CONNECTIONS": ("max_connections", int),
            "LAMINA_HEADER_TIMEOUT_SECONDS": ("header_timeout_seconds", float),
            "LAMINA_BODY_TIMEOUT_SECONDS": ("body_timeout_seconds", float),
            "LAMINA_KEEP_ALIVE_TIMEOUT_SECONDS": ("keep_alive_timeout_seconds", int),
            "LAMINA_WEBHOOK_TIMEOUT_SECONDS": ("webhook_timeout_seconds", float),
            "LAMINA_WEBHOOK_MAX_ATTEMPTS": ("webhook_max_attempts", int),
            "LAMINA_WEBHOOK_CONCURRENCY": ("webhook_concurrency", int),
            "LAMINA_WEBHOOK_PROJECT_CONCURRENCY": ("webhook_project_concurrency", int),
            "LAMINA_MAX_INFLIGHT_PER_PROJECT": ("max_inflight_per_project", int),
            "LAMINA_S3_CACHE_BYTES": ("s3_cache_bytes", int),
        }
        for var, (name, kind) in numbers.items():
            if env.get(var):
                try:
                    values[name] = kind(env[var])
                except ValueError as exc:
                    raise ValueError(f"{var}={env[var]!r} is not a valid {kind.__name__}") from exc
        for var, name in {
            "LAMINA_OUTBOUND_ALLOW_CALLER_PROXY": "outbound_allow_caller_proxy",
            "LAMINA_METRICS": "metrics",
        }.items():
            if env.get(var):
                values[name] = parse_bool(var, env[var])
        if env.get("LAMINA_TRUSTED_HOSTS"):
            values["trusted_hosts"] = parse_list(env["LAMINA_TRUSTED_HOSTS"])
        if env.get("LAMINA_OUTBOUND_ALLOW"):
            values["outbound_allow"] = parse_list(env["LAMINA_OUTBOUND_ALLOW"])
        if env.get("LAMINA_API_KEYS"):
            values["api_keys"] = parse_api_keys(env["LAMINA_API_KEYS"])
        values.update(overrides)
        return cls(**values)
