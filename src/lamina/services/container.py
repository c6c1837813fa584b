"""The services of one data dir, wired together; the server holds one of these."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.extract.llm import ChatClient, ModelEndpoint
from lamina.services.batch_system import BatchSystem  # registers the batch tables too
from lamina.services.batch_wire import BatchLimits
from lamina.services.db import Database
from lamina.services.extract import ExtractService
from lamina.services.files import FileService
from lamina.services.keys import KeyStore  # also registers the api_keys table before create_all
from lamina.services.parse import ParseService
from lamina.services.settings import ServerSettings
from lamina.services.signing import Signer, load_or_create_secret
from lamina.services.storage import Storage
from lamina.services.webhooks import WebhookDelivery
from lamina.services.worker import JobRunner, make_runner


@dataclass
class Services:
    """Settings, database, storage, signer, the API services and the job runner."""

    settings: ServerSettings
    db: Database
    storage: Storage
    signer: Signer
    files: FileService
    parse: ParseService
    extract: ExtractService
    runner: JobRunner
    keys: KeyStore | None = None
    batch: BatchSystem | None = None

    @classmethod
    def open(cls, settings: ServerSettings) -> Services:
        """Create the data dir layout and schema (idempotent); the runner is not started."""
        storage = Storage(settings.data_dir)
        db = Database(settings.resolved_database_url)
        db.create_schema()
        signer = Signer(load_or_create_secret(settings.data_dir))
        ttl = settings.presign_ttl_seconds
        files = FileService(db, storage, signer, max_bytes=settings.max_upload_bytes, ttl=ttl)
        parse = ParseService(
            db,
            storage,
            signer,
            ttl=ttl,
            model_url=settings.model_url,
            outbound=settings.outbound_policy,
            limits=settings.request_limits,
        )
        extract = ExtractService(db, storage, model_url=settings.model_url)
        extract.limits = settings.request_limits
        endpoint = ModelEndpoint.maybe(
            settings.model_url,
            settings.model_name,
            settings.model_api_key,
            settings.model_timeout_seconds,
        )
        extract.chat = ChatClient(endpoint) if endpoint else None
        runner = make_runner(settings, db)
        parse.notify = runner.wake
        extract.notify = runner.wake
        services = cls(settings, db, storage, signer, files, parse, extract, runner)
        services.keys = KeyStore(db, settings.api_keys)  # start-up keys hashed here
        batch_limits = BatchLimits(
            settings.batch_max_concurrency,
            settings.batch_max_file_bytes,
            settings.model_url,
            outbound=settings.outbound_policy,
            requests=settings.request_limits,
        )
        webhooks = WebhookDelivery(
            db,
            policy=settings.outbound_policy,
            timeout_seconds=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
            concurrency=settings.webhook_concurrency,
            project_concurrency=settings.webhook_project_concurrency,
        )
        services.batch = BatchSystem.open(
            db,
            storage,
            files,
            batch_limits,
            chat=extract.chat,
            wake_workers=runner.wake,
            webhooks=webhooks,
        )
        return services

    def start(self) -> None:
        self.runner.start()
        if self.batch is not None:
            self.batch.start()

    def stop(self) -> None:
        if self.batch is not None:
            self.batch.stop()
        self.runner.stop()
        self.db.dispose()
