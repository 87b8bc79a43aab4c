"""Command line: ``gcnn-viewer [SUBCOMMAND]``; with no subcommand it launches the app."""

from __future__ import annotations

import argparse
import sys

from gcnn_viewer import __version__


class CliError(Exception):
    """An error the user can fix; printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gcnn-viewer",
        description="See and teach group-equivariant CNNs (Cohen & Welling, ICML 2016).",
    )
    parser.add_argument("--version", action="version", version=f"gcnn-viewer {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            raise CliError("the desktop app is not built yet")
        return args.func(args)
    except CliError as exc:
        print(f"gcnn-viewer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gcnn-viewer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
