"""The query catalog: every audit query written once, in Athena (Trino) SQL, one ``.sql`` file each.

Each file starts with a header of ``-- name:``, ``-- description:`` and ``-- parameters:`` lines;
the parameters name, in order, the ``?`` placeholders of the body (Athena execution parameters,
DuckDB prepared-statement parameters). Every query reads the table ``cloudtrail_logs`` (the AWS
CloudTrail table definition, lowercase column names, ``requestparameters``/``responseelements``/
``additionaleventdata`` as JSON text) and filters on its partition columns ``day`` (``yyyy/MM/dd``),
``account`` and ``region``. ``correlate-app-audit`` also reads ``spawn_app_audit``, spawn's
application audit records.

The program (``components/analytics.py``) reads these files to create one Athena named query per
entry; ``spawn_audit query`` converts them to DuckDB with sqlglot. This module only reads files, so
that the Pulumi program can import it without the tools' dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent
DATABASE_TABLE = "cloudtrail_logs"
APP_AUDIT_TABLE = "spawn_app_audit"

# The parameters every query shares, with the value that selects everything.
COMMON_DEFAULTS = {"start": "0000/00/00", "end": "9999/99/99", "account": "%", "region": "%"}

_HEADER = re.compile(r"^--\s*(name|description|parameters):\s*(.*)$")
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CatalogError(ValueError):
    """A catalog file that does not follow the header convention."""


@dataclass(frozen=True)
class CatalogQuery:
    name: str
    description: str
    parameters: tuple[str, ...]
    sql: str  # Athena SQL, header removed
    path: Path

    @property
    def extra_parameters(self) -> tuple[str, ...]:
        """The parameters beyond the shared date range, account and region."""
        return tuple(p for p in self.parameters if p not in COMMON_DEFAULTS)

    @property
    def uses_app_audit(self) -> bool:
        return APP_AUDIT_TABLE in self.sql


def parse(path: Path) -> CatalogQuery:
    header: dict[str, str] = {}
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if match and not body:
            header[match[1]] = match[2].strip()
        else:
            body.append(line)
    missing = {"name", "description", "parameters"} - header.keys()
    if missing:
        raise CatalogError(f"{path.name}: header lacks {', '.join(sorted(missing))}")
    name = header["name"]
    if not _NAME.match(name) or f"{name}.sql" != path.name:
        raise CatalogError(f"{path.name}: name {name!r} must be kebab-case and match the file name")
    parameters = tuple(p.strip() for p in header["parameters"].split(",") if p.strip())
    sql = "\n".join(body).strip()
    if sql.count("?") != len(parameters):
        raise CatalogError(f"{path.name}: {sql.count('?')} placeholders but {len(parameters)} parameters")
    return CatalogQuery(name, header["description"], parameters, sql, path)


def load(directory: Path = CATALOG_DIR) -> dict[str, CatalogQuery]:
    """Every catalog query by name, in name order."""
    queries = [parse(p) for p in sorted(directory.glob("*.sql"))]
    return {q.name: q for q in queries}
