"""The distributed executor (the ``distributed`` extra): Celery workers over a shared database.

``lamina serve --broker-url ... --database-url ...`` runs an API replica whose job runner is
:class:`.executor.CeleryExecutor`: it starts no worker process;
jobs are rows in the database (the single source of truth for their state) and a releaser
hands their ids to the broker, fairly between projects. ``lamina worker`` runs a Celery worker
(:mod:`.celery_app`) that claims each delivered job by lease in the
database, runs it with the same code as a local worker, and writes its result once.

Nothing here is imported by the default paths (embedded engine, plain ``lamina serve``).
"""
