"""Run a catalog query on the deployed Athena workgroup through boto3 (the path for archives that
outgrow one machine).

Calls, all in the Athena API reference: ``StartQueryExecution`` (the catalog's SQL unchanged, its
``?`` placeholders bound with ``ExecutionParameters``, on the stack's workgroup, whose enforced
configuration decides the results location, encryption and bytes-scanned cutoff),
``GetQueryExecution`` (polled until a final state) and ``GetQueryResults`` (every page). Values come
back as strings; columns whose result type is numeric are converted so that the rows have the same
shape as the local engine's. No Glue call is made: the table and its partition projection are the
stack's (``components/analytics.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions

from spawn_audit.catalog import CatalogQuery

FINAL_STATES = {"SUCCEEDED", "FAILED", "CANCELLED"}
_INTEGER_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real"}


class AthenaError(Exception):
    """The query could not run (API error, failed or cancelled execution)."""


def literal(value: str) -> str:
    """An Athena execution parameter: a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _convert(value: str | None, type_: str) -> Any:
    if value is None:
        return None
    if type_ in _INTEGER_TYPES:
        return int(value)
    if type_ in _FLOAT_TYPES:
        return float(value)
    if type_ == "boolean":
        return value == "true"
    return value


def run(query: CatalogQuery, params: dict[str, str], *, workgroup: str, database: str,
        region: str | None = None, poll_seconds: float = 0.5, timeout_seconds: float = 1800,
        progress: Callable[[str], None] | None = None,
        client: Any = None) -> tuple[list[str], list[tuple], dict]:
    """Columns, rows and the execution's statistics."""
    try:
        athena = client or boto3.client("athena", region_name=region)
        started = athena.start_query_execution(
            QueryString=query.sql,
            QueryExecutionContext={"Database": database},
            WorkGroup=workgroup,
            ExecutionParameters=[literal(params[p]) for p in query.parameters],
        )
        execution_id = started["QueryExecutionId"]
        deadline = time.monotonic() + timeout_seconds
        delay = poll_seconds
        while True:
            execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            state = execution["Status"]["State"]
            if state in FINAL_STATES:
                break
            if time.monotonic() > deadline:
                athena.stop_query_execution(QueryExecutionId=execution_id)
                raise AthenaError(f"query {execution_id} still {state} after {timeout_seconds:.0f} s; "
                                  f"stopped it")
            if progress:
                scanned = execution.get("Statistics", {}).get("DataScannedInBytes", 0)
                progress(f"athena {execution_id}: {state}, {scanned / 1e6:.1f} MB scanned")
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
        if state != "SUCCEEDED":
            reason = execution["Status"].get("StateChangeReason", "no reason given")
            raise AthenaError(f"query {execution_id} {state}: {reason}")
        columns: list[str] = []
        types: list[str] = []
        rows: list[tuple] = []
        first_page = True
        for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
            result = page["ResultSet"]
            if first_page:
                info = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [c["Name"] for c in info]
                types = [c.get("Type", "varchar").lower() for c in info]
            data = result.get("Rows", [])
            if first_page and data:
                # The first row of a SELECT's first page repeats the column names.
                header = [d.get("VarCharValue") for d in data[0]["Data"]]
                if not columns:
                    columns, types = [str(h) for h in header], ["varchar"] * len(header)
                if header == columns:
                    data = data[1:]
            first_page = False
            for row in data:
                cells = [d.get("VarCharValue") for d in row["Data"]]
                rows.append(tuple(_convert(v, t) for v, t in zip(cells, types, strict=False)))
        return columns, rows, execution.get("Statistics", {})
    except botocore.exceptions.NoRegionError as exc:
        raise AthenaError(f"{exc} (give --aws-region REGION or set AWS_REGION)") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise AthenaError(str(exc)) from exc
    except botocore.exceptions.ClientError as exc:
        raise AthenaError(str(exc)) from exc
    finally:
        if progress:
            progress("")
