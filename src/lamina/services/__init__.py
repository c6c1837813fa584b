"""Services behind the HTTP layer: files, parse jobs, storage, signing, database and workers.

Nothing here knows about HTTP; :mod:`lamina.server` turns these calls into routes and turns
:mod:`lamina.services.errors` into responses.
"""
