"""Persistence: SQL records and leases, files on disk, presigned URLs, the result cache."""
