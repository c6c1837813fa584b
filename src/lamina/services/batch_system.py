"""The batch part of a server, wired: directories, batch API, dispatcher, webhook delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lamina.classify import classify_text
from lamina.extract.llm import ChatClient
from lamina.services.batch import BatchService
from lamina.services.batch_dispatch import BatchDispatcher, Classifier
from lamina.services.batch_wire import BatchLimits
from lamina.services.db import Database, Row
from lamina.services.directories import DirectoryService
from lamina.services.files import FileService
from lamina.services.storage import Storage
from lamina.services.webhooks import WebhookDelivery

_MODEL_TEXT_LIMIT = 12_000


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


def classify_with_model(chat: ChatClient, text: str, rules: list[dict[str, str]]) -> dict[str, Any]:
    types = [r["type"] for r in rules]
    listing = "\n".join(f"- {r['type']}: {r['description']}" for r in rules)
    schema = {
        "type": "object",
        "properties": {
            "type": {"type": ["string", "null"], "enum": [*types, None]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reasoning": {"type": "string"},
        },
        "required": ["type", "confidence", "reasoning"],
    }
    messages = [
        {
            "role": "system",
            "content": "Classify the document as exactly one of these types, or null if none "
            f"fits:\n{listing}\nAnswer in JSON with type, confidence (0-1) and reasoning.",
        },
        {"role": "user", "content": text[:_MODEL_TEXT_LIMIT]},
    ]
    answer = chat.complete_json(messages, schema)
    if not isinstance(answer, dict):
        raise RuntimeError("the model did not answer with an object")
    chosen = answer.get("type") if answer.get("type") in types else None
    try:
        confidence = max(0.0, min(1.0, float(answer.get("confidence") or 0.0)))
    except (TypeError, ValueError):
        confidence = 0.0
    return {
        "type": chosen,
        "confidence": confidence if chosen else 0.0,
        "reasoning": str(answer.get("reasoning") or ""),
        "mode": "MULTIMODAL",
    }


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
