"""``lamina keys``: create, list, revoke and reset the API keys a ``lamina serve`` accepts.

Keys are stored hashed in the server's database (the data dir's SQLite file, or
``--database-url``); the plaintext is printed once, by ``create``. A running server sees a new
or revoked key within about a second.

Auth is on for a data dir as soon as any key was stored there, revoked ones included (so
revoking the last key never opens a server by accident). Every command says whether auth is on;
``reset --yes`` deletes every stored key and opens the server again. The embedded engine (no
base URL) never asks for a key.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``keys`` subcommand and its ``create`` / ``list`` / ``revoke`` / ``reset``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "keys",
        help="create, list, revoke and reset the server's API keys",
        description=(
            "Manage API keys of a Lamina server's database. Each key belongs to one project; "
            "a server requires a key as soon as one was stored (revoked keys keep auth on). "
            "'reset --yes' deletes every stored key: the server is open again."
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

    listing = actions.add_parser(
        "list", parents=[common], help="List keys, revoked ones too, and whether auth is on."
    )
    listing.add_argument("--active", action="store_true", help="Only keys that are not revoked.")
    listing.add_argument("--all", action="store_true", help=argparse.SUPPRESS)  # the default now
    listing.set_defaults(run=_list)

    revoke = actions.add_parser("revoke", parents=[common], help="Revoke a key by its id.")
    revoke.add_argument("key_id", metavar="KEY_ID", help="The id shown by create/list (key-...).")
    revoke.set_defaults(run=_revoke)

    reset = actions.add_parser(
        "reset",
        parents=[common],
        help="Delete every stored key (revoked too): auth off, the server is open again.",
    )
    reset.add_argument("--yes", action="store_true", help="Really delete them.")
    reset.set_defaults(run=_reset)


class _Target:
    """The key store of the data dir (or database) the command is about, and how to name it."""

    def __init__(self, args: argparse.Namespace) -> None:
        from lamina.services.api.keys import KeyStore
        from lamina.services.settings import ServerSettings
        from lamina.services.store.db import Database

        overrides: dict[str, Any] = {"workers": 0}
        if args.data_dir:
            overrides["data_dir"] = args.data_dir
        if args.database_url:
            overrides["database_url"] = args.database_url
        self.settings = ServerSettings.from_env(**overrides)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(self.settings.resolved_database_url)
        db.create_schema()
        self.store = KeyStore(db)
        self.where = (
            f"database {args.database_url}" if args.database_url else f"{self.settings.data_dir}"
        )
        flags = []
        if args.data_dir:
            flags.append(f"--data-dir {args.data_dir}")
        if args.database_url:
            flags.append(f"--database-url '{args.database_url}'")
        self.flags = (" " + " ".join(flags)) if flags else ""

    def close(self) -> None:
        self.store.db.dispose()

    def auth_line(self, rows: list[dict[str, Any]]) -> str:
        """Whether a ``lamina serve`` on this data dir asks for a key, and why."""
        active = sum(1 for r in rows if r["revoked_at"] is None)
        revoked = len(rows) - active
        if not rows:
            return (
                f"auth: off for {self.where}: no key stored, so a 'lamina serve' here answers "
                "everyone (bind it to loopback)"
            )
        counts = f"{active} active, {revoked} revoked"
        why = "" if active else " (revoked keys keep it on: no stored key gets in)"
        return (
            f"auth: on for {self.where}: {counts}{why}; 'lamina keys reset --yes{self.flags}' "
            "deletes every key and opens the server again"
        )


def _startup_keys_note() -> str | None:
    import os

    if os.environ.get("LAMINA_API_KEYS", "").strip():
        return (
            "note: LAMINA_API_KEYS is set here: a server started with it needs one of those keys "
            "whatever is stored"
        )
    return None


def _create(args: argparse.Namespace) -> int:
    target = _Target(args)
    try:
        row, key = target.store.create(args.project, args.name)
        rows = target.store.list(include_revoked=True)
    finally:
        target.close()
    print(key)
    print(
        f"id {row['id']}  project {row['project_id']}  (store the key now: it is not shown again)"
    )
    print(target.auth_line(rows), file=sys.stderr)
    print(
        "every request to that server now needs 'Authorization: Bearer <key>'; "
        "the embedded engine (no base URL) never needs a key",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from lamina.services.api.keys import key_to_display

    target = _Target(args)
    try:
        stored = target.store.list(include_revoked=True)
    finally:
        target.close()
    shown = [r for r in stored if r["revoked_at"] is None] if args.active else stored
    print(target.auth_line(stored))
    note = _startup_keys_note()
    if note:
        print(note)
    if not shown:
        print("no keys" if not stored else "no active keys")
        return 0
    rows = [{**key_to_display(r), "status": _status(r)} for r in shown]
    columns = ["id", "project", "name", "key", "status", "created_at", "revoked_at"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())
    return 0


def _status(row: dict[str, Any]) -> str:
    return "revoked" if row["revoked_at"] is not None else "active"


def _revoke(args: argparse.Namespace) -> int:
    target = _Target(args)
    try:
        done = target.store.revoke(args.key_id)
        rows = target.store.list(include_revoked=True)
    finally:
        target.close()
    if not done:
        print(f"lamina keys: no active key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    print(target.auth_line(rows), file=sys.stderr)
    return 0


def _reset(args: argparse.Namespace) -> int:
    target = _Target(args)
    try:
        if not args.yes:
            count = len(target.store.list(include_revoked=True))
            print(
                f"lamina keys: this deletes all {count} stored keys of {target.where} and opens "
                f"its server to everyone; run 'lamina keys reset --yes{target.flags}' to do it",
                file=sys.stderr,
            )
            return 2
        deleted = target.store.reset()
        rows = target.store.list(include_revoked=True)
    finally:
        target.close()
    print(f"deleted {deleted} keys")
    print(target.auth_line(rows))
    note = _startup_keys_note()
    if note:
        print(note)
    return 0
