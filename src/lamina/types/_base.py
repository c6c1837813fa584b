"""Base class shared by every wire model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
