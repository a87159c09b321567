"""Entry point for ``python -m spawn_audit``: one parser, one subcommand module per command.

Data goes to stdout, diagnostics to stderr. A ``UsageError`` from any command becomes one ``error:``
line and exit 2; Ctrl-C exits 130 without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from spawn_audit.errors import EXIT_ERROR, UsageError

# Subcommand name -> module (inside this package) that implements it.
COMMANDS: dict[str, str] = {}


def _register() -> None:
    for name, module in (
        ("download", "download"),
        ("verify", "verify"),
        ("cost", "cost"),
        ("query", "query"),
        ("queries", "queries"),
    ):
        if importlib.util.find_spec(f"spawn_audit.{module}") is not None:
            COMMANDS[name] = module


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    _register()
    parser = _Parser(prog="python -m spawn_audit",
                     description="Evidence tools for spawn-audit's CloudTrail archive.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"spawn_audit.{module}")
        p = mod.add_parser(sub, name)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
