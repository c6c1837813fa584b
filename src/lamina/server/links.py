"""The server's presigned download routes (``routes_downloads``), as paths the services sign."""

from __future__ import annotations

FILE_DOWNLOAD = "/api/v1/beta/files/{file_id}/download"
RESULT_DOWNLOAD = "/api/v2/parse/{job_id}/results/{name:path}"


class ServerDownloads:
    """:class:`lamina.services.api.links.DownloadRoutes` for the routes above."""

    def file(self, file_id: str) -> str:
        return FILE_DOWNLOAD.format(file_id=file_id)

    def result(self, job_id: str, name: str) -> str:
        return RESULT_DOWNLOAD.replace("{name:path}", "{name}").format(job_id=job_id, name=name)


DOWNLOADS = ServerDownloads()
