"""The ``lamina`` command: ``lamina parse``, ``lamina serve`` and ``lamina keys``.

Each subcommand lives in its own module and is imported only when it runs, so ``lamina --help``
stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lamina._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lamina",
        description="Parse documents into markdown, text and structured items; serve the API.",
    )
    parser.add_argument("--version", action="version", version=f"lamina {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from lamina.cli import batch as batch_cmd
    from lamina.cli import keys as keys_cmd
    from lamina.cli import parse as parse_cmd
    from lamina.cli import serve as serve_cmd
    from lamina.cli import worker as worker_cmd

    parse_cmd.register(commands)
    serve_cmd.register(commands)
    keys_cmd.register(commands)
    batch_cmd.register(commands)
    worker_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
