"""Where the server serves signed downloads. The services sign and verify these paths; the
server owns them (``lamina.server.links``) and passes them in when it opens the services."""

from __future__ import annotations

from typing import Protocol


class DownloadRoutes(Protocol):
    """The URL paths of the two presigned download routes."""

    def file(self, file_id: str) -> str:
        """The path that serves an uploaded file's content."""
        ...

    def result(self, job_id: str, name: str) -> str:
        """The path that serves one result file of a parse job."""
        ...


class NoDownloads:
    """For services opened without a server (a worker, a script): nothing to link to."""

    def file(self, file_id: str) -> str:
        raise RuntimeError("these services serve no downloads: open them with download routes")

    def result(self, job_id: str, name: str) -> str:
        raise RuntimeError("these services serve no downloads: open them with download routes")
