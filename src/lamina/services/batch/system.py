"""The batch part of a server, wired: directories, batch API, dispatcher, webhook delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lamina.classify import classify_text
from lamina.extract.llm import ChatClient
from lamina.services.api.classify_jobs import classify_with_model
from lamina.services.api.directories import DirectoryService
from lamina.services.api.files import FileService
from lamina.services.api.webhooks import WebhookDelivery
from lamina.services.batch.dispatch import BatchDispatcher, Classifier
from lamina.services.batch.service import BatchService
from lamina.services.batch.wire import BatchLimits
from lamina.services.store.db import Database, Row
from lamina.services.store.storage import Storage


def make_classifier(chat: ChatClient | None) -> Classifier:
    """FAST: :func:`lamina.classify.classify_text`; MULTIMODAL: the configured model."""

    def classify(text: str, batch: Row) -> dict[str, Any]:
        spec = batch["classify"]
        if spec["mode"] == "MULTIMODAL":
            if chat is None:
                raise RuntimeError("no model endpoint is configured")
            return classify_with_model(chat, text, spec["rules"])
        result = classify_text(text, spec["rules"]).to_dict()
        result["mode"] = "FAST"
        return result

    return classify


@dataclass
class BatchSystem:
    """What the container holds for batches; :meth:`start` / :meth:`stop` run its threads."""

    directories: DirectoryService
    batches: BatchService
    dispatcher: BatchDispatcher
    webhooks: WebhookDelivery

    @classmethod
    def open(
        cls,
        db: Database,
        storage: Storage,
        files: FileService,
        limits: BatchLimits,
        *,
        chat: ChatClient | None,
        wake_workers: Callable[[], None],
        webhooks: WebhookDelivery | None = None,
    ) -> BatchSystem:
        webhooks = webhooks or WebhookDelivery(db, policy=limits.outbound)
        dispatcher = BatchDispatcher(
            db,
            storage,
            limits,
            classifier=make_classifier(chat),
            wake_workers=wake_workers,
            wake_webhooks=webhooks.wake,
        )
        batches = BatchService(db, storage, limits)

        def notify() -> None:
            dispatcher.wake()
            webhooks.wake()

        batches.notify = notify
        dispatcher.on_idle = batches.discard_stale_creating
        directories = DirectoryService(db, files, limits.requests)
        return cls(directories, batches, dispatcher, webhooks)

    def start(self) -> None:
        self.webhooks.start()
        self.dispatcher.start()

    def stop(self) -> None:
        self.dispatcher.stop()
        self.webhooks.stop()
