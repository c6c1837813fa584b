"""Services behind the HTTP layer, by concern.

- :mod:`lamina.services.store`: the database (records, leases), files on disk, presigned URLs,
  the result cache.
- :mod:`lamina.services.runtime`: running claimed jobs (execution), worker processes and their
  supervisor, background loop threads.
- :mod:`lamina.services.api`: the logic behind each API family (files, parse, extract, classify,
  configurations, directories, keys, versions, the classic APIs, webhooks).
- :mod:`lamina.services.batch`: batch jobs (API service, dispatcher, tables, wire shapes, wiring).
- Shared at the top: :mod:`~lamina.services.container` (wiring), :mod:`~lamina.services.settings`,
  :mod:`~lamina.services.errors`, :mod:`~lamina.services.outbound` (address policy),
  :mod:`~lamina.services.request_limits`, :mod:`~lamina.services.ratelimit`.

Nothing here knows about HTTP; :mod:`lamina.server` turns these calls into routes and turns
:mod:`lamina.services.errors` into responses.
"""
