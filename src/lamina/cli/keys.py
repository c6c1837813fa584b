"""``lamina keys``: create, list and revoke the API keys a ``lamina serve`` accepts.

Keys are stored hashed in the server's database (the data dir's SQLite file, or
``--database-url``); the plaintext is printed once, by ``create``. A running server sees a new
or revoked key within about a second.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``keys`` subcommand and its ``create`` / ``list`` / ``revoke`` actions."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "keys",
        help="create, list and revoke the server's API keys",
        description=(
            "Manage API keys of a Lamina server's database. Each key belongs to one project; "
            "a server requires a key as soon as one exists."
        ),
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="The server's data dir (default LAMINA_HOME).")
    common.add_argument("--database-url", help="SQLAlchemy URL (default SQLite in the data dir).")
    actions = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    create = actions.add_parser("create", parents=[common], help="Create a key (printed once).")
    create.add_argument("--project", default="default", help="Its project (default 'default').")
    create.add_argument("--name", help="A label for the key.")
    create.set_defaults(run=_create)

    listing = actions.add_parser("list", parents=[common], help="List keys (never the keys).")
    listing.add_argument("--all", action="store_true", help="Include revoked keys.")
    listing.set_defaults(run=_list)

    revoke = actions.add_parser("revoke", parents=[common], help="Revoke a key by its id.")
    revoke.add_argument("key_id", metavar="KEY_ID", help="The id shown by create/list (key-...).")
    revoke.set_defaults(run=_revoke)


def _store(args: argparse.Namespace) -> Any:
    from lamina.services.db import Database
    from lamina.services.keys import KeyStore
    from lamina.services.settings import ServerSettings

    overrides: dict[str, Any] = {"workers": 0}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.database_url:
        overrides["database_url"] = args.database_url
    settings = ServerSettings.from_env(**overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    db.create_schema()
    return KeyStore(db)


def _create(args: argparse.Namespace) -> int:
    store = _store(args)
    row, key = store.create(args.project, args.name)
    store.db.dispose()
    print(key)
    print(
        f"id {row['id']}  project {row['project_id']}  (store the key now: it is not shown again)"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from lamina.services.keys import key_to_display

    store = _store(args)
    rows = [key_to_display(r) for r in store.list(include_revoked=args.all)]
    store.db.dispose()
    if not rows:
        print("no keys")
        return 0
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())
    return 0


def _revoke(args: argparse.Namespace) -> int:
    import sys

    store = _store(args)
    done = store.revoke(args.key_id)
    store.db.dispose()
    if not done:
        print(f"lamina keys: no active key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    return 0
