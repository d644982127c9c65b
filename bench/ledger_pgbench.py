"""The pgbench side of `bench.ledger`: captured statements rendered into a script of the identical
SQL, and its rate in transactions per second.

Every parameter becomes a SQL literal; the values pgbench varies per transaction (the event key,
the member) are made on the server with `replace(literal, placeholder, <pgbench variables>)`, so
the variables stay outside string literals and the script runs in `-M simple` and `-M prepared`
alike.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any


def _text(value: Any) -> str | None:
    """A parameter as PostgreSQL reads it from text; None for NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _literal(value: Any) -> str:
    if isinstance(value, list | tuple):  # an array parameter (unnest, = ANY): an array literal
        items = (_text(v) for v in value)
        quoted = ("NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                  for v in items)  # fmt: skip
        return "'{" + ",".join(quoted).replace("'", "''") + "}'"
    text = _text(value)
    if text is None:
        return "NULL"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text
    return "'" + text.replace("'", "''") + "'"


def _param(value: Any, varied: Mapping[str, str]) -> str:
    """A parameter as a SQL expression for pgbench: its literal, with the event key and the member
    made per transaction by `replace` on the server (pgbench variables stay outside the quotes,
    so the script runs in -M simple and -M prepared alike), and with its colons hidden from
    pgbench's `:variable` parsing."""
    sql = _literal(value)
    if ":" in sql:
        sql = f"replace({sql.replace(':', '~C~')}, '~C~', ':')"
    for placeholder, expression in varied.items():
        if placeholder in sql:
            sql = f"replace({sql}, '{placeholder}', {expression})"
    return f"({sql})" if sql.startswith("replace") else sql


def rendered(statement: str, params: tuple[Any, ...], varied: Mapping[str, str]) -> str:
    """An asyncpg statement ($1, $2 ...) with its parameters as SQL expressions; `varied` maps a
    placeholder in the values to the SQL expression (of pgbench variables) that replaces it."""
    return re.sub(r"\$(\d+)", lambda m: _param(params[int(m.group(1)) - 1], varied), statement)


def tps(
    dsn: str, statements: Sequence[str], *, variables: Sequence[str], seconds: int, mode: str
) -> float:
    """One pgbench client (-c 1) running `variables` (\\set lines) then the statements in one
    transaction, for `seconds`, in protocol `mode` (simple or prepared)."""
    script = [*variables, "BEGIN;", *(s + ";" for s in statements), "COMMIT;"]
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as file:
        file.write("\n".join(script) + "\n")
    command = [
        "pgbench",
        "-n",
        "-M",
        mode,
        "-c",
        "1",
        "-j",
        "1",
        "-T",
        str(seconds),
        "-f",
        file.name,
        dsn,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
