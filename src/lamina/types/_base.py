"""Base classes shared by every wire model."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)


class WireModel(BaseModel):
    """A model of a JSON shape on the wire.

    Unknown fields from a server are kept (``extra="allow"``), so a newer server never breaks an
    older client and a round trip loses nothing. Our own tests validate strictly with
    :func:`lamina.types.strict_validate`.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    def to_json_dict(self) -> dict[str, object]:
        """The JSON-ready dict, without fields left at ``None``."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class StoredModel(WireModel):
    """A wire model of a mapping the server stores as it was sent (a job's configuration).

    Validated from a mapping (keyword arguments are one), it writes its keys back in that
    mapping's order, where a model otherwise writes its declared fields first: an answer built
    from the stored mapping is the same JSON as the mapping, key for key.
    """

    _key_order: tuple[str, ...] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(
        cls, data: Any, handler: ModelWrapValidatorHandler[StoredModel]
    ) -> StoredModel:
        model = handler(data)
        if isinstance(data, dict) and model is not data:
            model._key_order = tuple(data)
        return model

    # No return annotation: the JSON schema of the written shape stays the model's own.
    @model_serializer(mode="wrap")
    def _write_in_key_order(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        written = handler(self)
        order = self._key_order
        if not order or not isinstance(written, dict):
            return written
        rank = {key: index for index, key in enumerate(order)}
        return dict(sorted(written.items(), key=lambda item: rank.get(item[0], len(rank))))
