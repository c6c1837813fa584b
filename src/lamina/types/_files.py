"""Files API shapes (``/api/v1/beta/files``)."""

from __future__ import annotations

from pydantic import Field

from lamina.types._base import WireModel
from lamina.types._common import PresignedURL, WireTime

FILE_PURPOSES = (
    "user_data",
    "parse",
    "extract",
    "classify",
    "split",
    "sheet",
    "agent_app",
)


class File(WireModel):
    """An uploaded file, as the create, retrieve and list calls return it."""

    id: str = Field(description="File id, ``dfl-`` prefixed.")
    name: str
    project_id: str
    file_type: str | None = Field(default=None, description="Extension of the file name.")
    purpose: str | None = None
    external_file_id: str | None = None
    expires_at: WireTime | None = Field(default=None, description="None means no expiration.")
    last_modified_at: WireTime | None = None
    size_bytes: int | None = Field(default=None, description="Size of the content (Lamina).")
    sha256: str | None = Field(default=None, description="SHA-256 of the content (Lamina).")
    download_url: PresignedURL | None = None
