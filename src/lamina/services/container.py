"""The services of one data dir, wired together; the server holds one of these."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.extract.llm import ChatClient, ModelEndpoint
from lamina.services.db import Database
from lamina.services.extract import ExtractService
from lamina.services.files import FileService
from lamina.services.parse import ParseService
from lamina.services.settings import ServerSettings
from lamina.services.signing import Signer, load_or_create_secret
from lamina.services.storage import Storage
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

    @classmethod
    def open(cls, settings: ServerSettings) -> Services:
        """Create the data dir layout and schema (idempotent); the runner is not started."""
        storage = Storage(settings.data_dir)
        db = Database(settings.resolved_database_url)
        db.create_schema()
        signer = Signer(load_or_create_secret(settings.data_dir))
        ttl = settings.presign_ttl_seconds
        files = FileService(db, storage, signer, max_bytes=settings.max_upload_bytes, ttl=ttl)
        parse = ParseService(db, storage, signer, ttl=ttl, model_url=settings.model_url)
        extract = ExtractService(db, storage, model_url=settings.model_url)
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
        return cls(settings, db, storage, signer, files, parse, extract, runner)

    def start(self) -> None:
        self.runner.start()

    def stop(self) -> None:
        self.runner.stop()
        self.db.dispose()
