"""Tables of directories, batch jobs, their items, processing results and the webhook outbox.

Defined on the shared :data:`lamina.services.store.db.metadata`, so ``Database.create_schema``
creates them (this module is imported by the service container before the schema is created).

Counts are never stored: a batch's progress is a ``GROUP BY status`` over its items, so a crash
can never leave a counter out of step with the items.
"""

from __future__ import annotations

import sqlalchemy as sa

from lamina.services.store.db import metadata

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
