"""Every table of the service layer, on one :data:`metadata`.

:meth:`lamina.services.store.db.Database.create_schema` creates :data:`ALL_TABLES` when the
services open: importing a service module registers nothing. Rows are read and written by the
modules named in each group's comment.

Counts are never stored: a batch's progress is a ``GROUP BY status`` over its items, so a crash
can never leave a counter out of step with the items.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Files and jobs (parse, extract, classify share one queue): store/db.py ---------------------

files_table = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("file_type", sa.String(32)),
    sa.Column("purpose", sa.String(32)),
    sa.Column("external_file_id", sa.Text),
    sa.Column("content_type", sa.String(128)),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime),
)

jobs_table = sa.Table(
    "parse_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False, server_default="parse", default="parse"),
    sa.Column("file_input", sa.String(64)),
    sa.Column("file_id", sa.String(64)),
    sa.Column("source_url", sa.Text),
    sa.Column("http_proxy", sa.Text),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("tier", sa.String(32), nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("configuration", sa.JSON, nullable=False),
    sa.Column("raw_parameters", sa.JSON, nullable=False),
    sa.Column("user_metadata", sa.JSON),
    sa.Column("error_message", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("lease_expires_at", sa.DateTime),
    sa.Column("result_summary", sa.JSON),
    # Result cache key (services/store/cache.py) of a COMPLETED parse job whose result may be
    # reused.
    sa.Column("cache_key", sa.String(64)),
    # When the distributed executor (runtime/distributed) last handed the job to the broker.
    sa.Column("released_at", sa.DateTime),
    sa.Index("ix_parse_jobs_cache", "project_id", "cache_key"),
    # Fair claiming: pending jobs per project, oldest first, from the index alone.
    sa.Index("ix_parse_jobs_claim", "status", "project_id", "created_at"),
)

project_claims_table = sa.Table(
    "project_claims",
    metadata,
    sa.Column("project_id", sa.String(128), primary_key=True),
    sa.Column("last_claimed_at", sa.DateTime, nullable=False),
)
"""When a worker last claimed a job of each project (round-robin between projects)."""

# API keys: api/keys.py ------------------------------------------------------------------

api_keys_table = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("name", sa.Text),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("key_hint", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
)

# Saved configurations, webhook configurations, job links: api/configurations.py ----------

configurations_table = sa.Table(
    "saved_configurations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("product_type", sa.String(32), nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

webhook_configs_table = sa.Table(
    "webhook_configs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("webhook_url", sa.Text, nullable=False),
    sa.Column("webhook_events", sa.JSON),
    sa.Column("webhook_headers", sa.JSON),
    sa.Column("webhook_output_format", sa.String(16)),
    sa.Column("webhook_signing_secret", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

job_links_table = sa.Table(
    "job_links",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("configuration_id", sa.String(64), index=True),
    sa.Column("transaction_id", sa.String(256)),
    sa.Index("ix_job_links_transaction", "project_id", "kind", "transaction_id", unique=True),
)
"""Which saved configuration a job was created from (list filters), and its idempotency key."""

# Webhooks of single jobs: api/job_webhooks.py ---------------------------------------------

job_webhooks_table = sa.Table(
    "job_webhooks",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("webhooks", sa.JSON, nullable=False),
    sa.Column("announced", sa.String(16)),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Classic extraction agents: api/classic_extract.py ----------------------------------------

agents_table = sa.Table(
    "extraction_agents",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("data_schema", sa.JSON, nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_extraction_agents_name", "project_id", "name", unique=True),
)

# Directories (api/directories.py), batches (batch/), the webhook outbox (api/webhooks.py) --

directories_table = sa.Table(
    "directories",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("connector_subscription_id", sa.String(128)),
    sa.Column("system_metadata", sa.JSON),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("deleted_at", sa.DateTime),
)

directory_files_table = sa.Table(
    "directory_files",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("directory_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_id", sa.String(128), nullable=False),
    sa.Column("file_id", sa.String(64), nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("unique_id", sa.Text, nullable=False),
    sa.Column("metadata", sa.JSON),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("deleted_at", sa.DateTime),
)

batch_jobs_table = sa.Table(
    "batch_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("project_id", sa.String(128), nullable=False, index=True),
    sa.Column("api", sa.String(8), nullable=False),  # "v1" (batch-processing) or "v2"
    sa.Column("job_type", sa.String(16), nullable=False),
    sa.Column("directory_id", sa.String(64), index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("job_config", sa.JSON, nullable=False),  # as the caller sent it
    sa.Column("parse_configuration", sa.JSON),  # the v2 configuration each item's job gets
    sa.Column("classify", sa.JSON),  # {"rules": [...], "mode": ...} for classify batches
    sa.Column("parameters_hash", sa.String(64), nullable=False),
    sa.Column("webhooks", sa.JSON),  # resolved list of webhook configurations
    sa.Column("max_concurrency", sa.Integer, nullable=False),
    sa.Column("total_items", sa.Integer, nullable=False),
    sa.Column("error_message", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("completed_at", sa.DateTime),
)

batch_items_table = sa.Table(
    "batch_items",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("item_id", sa.String(64), nullable=False, index=True),  # the directory file id
    sa.Column("item_name", sa.Text, nullable=False),
    sa.Column("file_id", sa.String(64), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("skip_reason", sa.String(32)),
    sa.Column("job_id", sa.String(64), index=True),
    sa.Column("error_message", sa.Text),
    sa.Column("started_at", sa.DateTime),
    sa.Column("completed_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_batch_items_batch_status_position", "batch_id", "status", "position"),
)

processing_results_table = sa.Table(
    "batch_processing_results",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # result_id
    sa.Column("project_id", sa.String(128), nullable=False),
    sa.Column("item_id", sa.String(64), nullable=False, index=True),
    sa.Column("batch_item_id", sa.String(64), nullable=False, unique=True),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("job_type", sa.String(16), nullable=False),
    sa.Column("job_id", sa.String(64)),
    sa.Column("job_config", sa.JSON, nullable=False),
    sa.Column("parameters_hash", sa.String(64), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("output_path", sa.Text, nullable=False),
    sa.Column("output_metadata", sa.JSON),
    sa.Column("processed_at", sa.DateTime, nullable=False),
    sa.Index("ix_batch_results_dedup", "project_id", "file_sha256", "parameters_hash", "job_type"),
)

webhook_outbox_table = sa.Table(
    "webhook_outbox",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("batch_id", sa.String(64), nullable=False, index=True),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("headers", sa.JSON),
    sa.Column("output_format", sa.String(16)),
    sa.Column("signing_secret", sa.Text),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending|delivered|dead
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False, index=True),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime),
)

# --- distributed workers (runtime/distributed/heartbeat.py) --------------------------------------

workers_table = sa.Table(
    "lamina_workers",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("concurrency", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False, index=True),
)
"""Heartbeats of ``lamina worker`` processes (worker count, readiness)."""

ALL_TABLES: tuple[sa.Table, ...] = tuple(metadata.sorted_tables)
"""What :meth:`~lamina.services.store.db.Database.create_schema` creates."""
