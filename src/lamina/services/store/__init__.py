"""Persistence: every table, SQL records and leases, files on disk, presigned URLs, the
result cache."""
