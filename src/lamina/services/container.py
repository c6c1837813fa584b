"""The services of one data dir, wired together; the server holds one of these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lamina.extract.llm import ChatClient, ModelEndpoint
from lamina.services.api.classify_jobs import ClassifyService
from lamina.services.api.configurations import ConfigurationService
from lamina.services.api.extract import ExtractService
from lamina.services.api.files import FileService
from lamina.services.api.keys import KeyStore
from lamina.services.api.links import DownloadRoutes, NoDownloads
from lamina.services.api.parse import ParseService
from lamina.services.runtime.background import Signal
from lamina.services.runtime.worker import JobRunner, make_runner
from lamina.services.settings import ServerSettings
from lamina.services.store.backends import open_storage
from lamina.services.store.db import Database, Row
from lamina.services.store.signing import Signer
from lamina.services.store.storage import Storage

if TYPE_CHECKING:
    from lamina.services.api.job_webhooks import JobWebhookWatcher, WatchJob
    from lamina.services.batch.system import BatchSystem
    from lamina.services.runtime.distributed.executor import Leadership


def make_executor(settings: ServerSettings, db: Database) -> JobRunner:
    """The job executor: local (inline thread or worker processes), or with a ``broker_url``
    the Celery executor, whose jobs run in ``lamina worker`` processes (``distributed`` extra)."""
    if settings.broker_url:
        from lamina.services.runtime.distributed.executor import CeleryExecutor

        return CeleryExecutor(settings, db)
    return make_runner(settings, db)


def watch_jobs(db: Database, wake: Callable[[], None]) -> WatchJob:
    """The ``watch`` of the job services: store a new job's webhooks (announced by the
    :class:`~lamina.services.api.job_webhooks.JobWebhookWatcher`), then ``wake`` it."""

    def watch(row: Row, webhooks: list[dict[str, Any]]) -> None:
        from lamina.services.api.job_webhooks import register

        register(db, row, webhooks)
        wake()

    return watch


def model_client(settings: ServerSettings) -> ChatClient | None:
    """The client of the configured model endpoint (``LAMINA_MODEL_URL``), if there is one."""
    endpoint = ModelEndpoint.maybe(
        settings.model_url,
        settings.model_name,
        settings.model_api_key,
        settings.model_timeout_seconds,
    )
    return ChatClient(endpoint) if endpoint else None


@dataclass
class Services:
    """Settings, database, storage, signer, the API services, the key store and the job runner.

    Every collaborator is a constructor argument (:meth:`open` builds them all); only the batch
    system and the job webhook watcher open later (:meth:`open_batch`), and nothing is wired by
    setting attributes. ``keys`` is None only for a server whose settings turn auth off
    (``auth=False``); with auth on and no key store, every request is refused
    (:func:`lamina.server.deps.authenticate`).
    """

    settings: ServerSettings
    db: Database
    storage: Storage
    signer: Signer
    files: FileService
    parse: ParseService
    extract: ExtractService
    classify: ClassifyService
    configurations: ConfigurationService
    keys: KeyStore | None
    runner: JobRunner
    job_signal: Signal
    """Wakes the job webhook watcher once it exists (a job with webhooks was created)."""
    batch: BatchSystem | None = field(default=None, init=False)
    job_webhooks: JobWebhookWatcher | None = field(default=None, init=False)
    leadership: Leadership | None = field(default=None, init=False)

    @classmethod
    def open(
        cls,
        settings: ServerSettings,
        *,
        downloads: DownloadRoutes | None = None,
        batch: bool = True,
    ) -> Services:
        """Create the data dir layout and every table (idempotent); the runner is not started.

        ``batch=False`` leaves the directories, the batch system and job webhook delivery
        closed (and their modules unloaded) until :meth:`open_batch`: the embedded engine opens
        them with the app. Saved configurations are always wired, so a ``configuration_id``
        is honoured on every path. ``downloads``: the server's presigned download routes
        (``lamina.server.links``); without them, the services sign no download links.
        """
        storage = open_storage(
            settings.data_dir,
            settings.storage_url,
            durable=settings.durable_writes,
            options=settings.storage_options,
        )
        db = Database(settings.resolved_database_url)
        db.create_schema()
        signer = Signer(storage.signing_secret())
        services = cls.build(
            settings, db, storage, signer, make_executor(settings, db), downloads=downloads
        )
        if batch:
            services.open_batch()
        return services

    @classmethod
    def build(
        cls,
        settings: ServerSettings,
        db: Database,
        storage: Storage,
        signer: Signer,
        runner: JobRunner,
        *,
        downloads: DownloadRoutes | None = None,
    ) -> Services:
        """The API services over an open database and storage, waking ``runner`` on each new
        job; nothing starts. Another runtime (runner, store) passes its own collaborators."""
        ttl = settings.presign_ttl_seconds
        job_signal = Signal()
        watch = watch_jobs(db, job_signal)
        configurations = ConfigurationService(db, policy=settings.outbound_policy)
        links = downloads or NoDownloads()
        files = FileService(
            db, storage, signer, max_bytes=settings.max_upload_bytes, ttl=ttl, downloads=links
        )
        parse = ParseService(
            db,
            storage,
            signer,
            ttl=ttl,
            downloads=links,
            model_url=settings.model_url,
            outbound=settings.outbound_policy,
            limits=settings.request_limits,
            configurations=configurations,
            notify=runner.wake,
            watch=watch,
        )
        extract = ExtractService(
            db,
            storage,
            model_url=settings.model_url,
            chat=model_client(settings),
            limits=settings.request_limits,
            configurations=configurations,
            notify=runner.wake,
            watch=watch,
        )
        classify = ClassifyService(
            db,
            storage,
            model_url=settings.model_url,
            configurations=configurations,
            notify=runner.wake,
            watch=watch,
        )
        keys = KeyStore(db, settings.api_keys) if settings.auth else None  # keys hashed here
        return cls(
            settings,
            db,
            storage,
            signer,
            files,
            parse,
            extract,
            classify,
            configurations,
            keys,
            runner,
            job_signal,
        )

    def open_batch(self) -> BatchSystem:
        """Directories, batches and job webhook delivery (their tables exist from
        :meth:`open`); idempotent."""
        if self.batch is None:
            from lamina.services.api.webhooks import WebhookDelivery
            from lamina.services.batch.system import BatchSystem
            from lamina.services.batch.wire import BatchLimits

            settings = self.settings
            limits = BatchLimits(
                settings.batch_max_concurrency,
                settings.batch_max_file_bytes,
                settings.model_url,
                outbound=settings.outbound_policy,
                requests=settings.request_limits,
            )
            webhooks = WebhookDelivery(
                self.db,
                policy=settings.outbound_policy,
                timeout_seconds=settings.webhook_timeout_seconds,
                max_attempts=settings.webhook_max_attempts,
                concurrency=settings.webhook_concurrency,
                project_concurrency=settings.webhook_project_concurrency,
            )
            self.batch = BatchSystem.open(
                self.db,
                self.storage,
                self.files,
                limits,
                chat=self.extract.chat,
                wake_workers=self.runner.wake,
                configurations=self.configurations,
                validate_extract=self.extract.check_configuration,
                webhooks=webhooks,
            )
            self._open_job_webhooks()
        return self.batch

    def start_batch(self) -> None:
        """Open (if need be) and start the batch dispatcher and the webhook threads."""
        self.open_batch().start()
        if self.job_webhooks is not None:
            self.job_webhooks.start()

    def _open_job_webhooks(self) -> None:
        """Single jobs' webhooks: registered at create (``watch``), announced by one watcher
        thread, woken through :attr:`job_signal`."""
        from lamina.services.api.job_webhooks import JobWebhookWatcher
        from lamina.services.api.parse import to_parse_job

        assert self.batch is not None
        watcher = JobWebhookWatcher(
            self.db,
            {
                "parse": to_parse_job,
                "extract": lambda row: self.extract.to_job(row, set()),
                "classify": self.classify.to_job,
            },
            wake_delivery=self.batch.webhooks.wake,
        )
        self.job_signal.attach(watcher.wake)
        self.job_webhooks = watcher

    def readiness(self) -> dict[str, bool]:
        """Checks a replica must pass to take traffic: the database, and the broker when jobs
        go to one."""
        checks = {"database": True}
        try:
            with self.db.begin() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception:
            checks["database"] = False
        if self.settings.storage_url:
            try:
                self.storage.check()
                checks["storage"] = True
            except Exception:
                checks["storage"] = False
        broker_ok = getattr(self.runner, "broker_ok", None)
        if broker_ok is not None:
            checks["broker"] = bool(broker_ok)
        return checks

    def start(self) -> None:
        self.runner.start()
        if self.settings.broker_url:
            # API replicas: the batch and webhook loops run in one replica, the leader.
            from lamina.services.runtime.distributed.executor import Leadership

            self.leadership = Leadership(self.db, self._start_loops, self._stop_loops)
            self.leadership.start()
        else:
            self._start_loops()

    def _start_loops(self) -> None:
        if self.batch is not None:
            self.batch.start()
        if self.job_webhooks is not None:
            self.job_webhooks.start()

    def _stop_loops(self) -> None:
        if self.job_webhooks is not None:
            self.job_webhooks.stop()
        if self.batch is not None:
            self.batch.stop()

    def stop(self) -> None:
        if self.leadership is not None:
            self.leadership.stop()
        else:
            self._stop_loops()
        self.runner.stop()
        self.db.dispose()
