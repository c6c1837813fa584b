"""Running jobs: executing one claimed job, worker processes and supervisor, loop threads."""
