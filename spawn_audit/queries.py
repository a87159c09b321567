"""``python -m spawn_audit queries [NAME]``: list the query catalog, or print one query's SQL.

``--dialect athena`` prints the catalog's text as Athena runs it (and as the stack saves it as a
named query); ``--dialect duckdb`` prints sqlglot's conversion, which ``query`` runs locally.
"""

from __future__ import annotations

import argparse
import json
import sys

from spawn_audit import catalog
from spawn_audit.errors import EXIT_OK, UsageError


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, help="list the query catalog or print a query's SQL",
                              description="List the catalog's queries, or print one query's SQL.")
    p.add_argument("name", metavar="NAME", nargs="?", help="print this query's SQL")
    p.add_argument("--dialect", choices=("athena", "duckdb"), default="athena",
                   help="SQL dialect to print (default: athena)")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="listing format (default: table)")
    return p


def run(args: argparse.Namespace) -> int:
    queries = catalog.load()
    if args.name is not None:
        query = queries.get(args.name)
        if query is None:
            raise UsageError(f"query {args.name!r} is not in the catalog; "
                             f"choose one of: {', '.join(queries)}")
        if args.dialect == "duckdb":
            from spawn_audit.localdb import to_duckdb  # noqa: PLC0415 - sqlglot only when asked

            sql = to_duckdb(query)
        else:
            sql = query.sql
        sys.stdout.write(sql.rstrip() + "\n")
        return EXIT_OK
    if args.format == "json":
        listing = [{"name": q.name, "description": q.description, "parameters": list(q.parameters)}
                   for q in queries.values()]
        sys.stdout.write(json.dumps(listing, indent=2) + "\n")
        return EXIT_OK
    width = max(len(n) for n in queries)
    for q in queries.values():
        extra = f" (needs --{', --'.join(q.extra_parameters)})" if q.extra_parameters else ""
        sys.stdout.write(f"{q.name.ljust(width)}  {q.description}{extra}\n")
    return EXIT_OK
