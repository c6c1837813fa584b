"""Batch jobs over a directory's files: API service, dispatcher thread, tables, wire shapes."""
