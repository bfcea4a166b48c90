"""How the database finds the rows of a statement our code runs: its plan, on SQLite or
PostgreSQL, and the conditions it looks rows up by through an index."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import connection


def plan_of(call: Callable[[], object], table: str) -> str:
    """The plan of the first statement `call` runs that reads `table`, explained with its own
    parameters, as text."""
    ran: list[tuple[str, object]] = []

    def keep(execute, sql, params, many, context):
        ran.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        call()
    sql, params = next((s, p) for s, p in ran if table in s)
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def index_conditions(plan: str) -> list[tuple[str, str]]:
    """(index, condition) for each lookup the plan makes through an index: SQLite's `SEARCH t
    USING INDEX i (a=? AND b=?)`, PostgreSQL's `Index Scan using i` or `Bitmap Index Scan on i`
    and the `Index Cond:` under it."""
    if connection.vendor == "sqlite":
        return re.findall(r"SEARCH \S+ USING (?:COVERING )?INDEX (\S+) \(([^)]*)\)", plan)
    found, index = [], ""
    for line in plan.splitlines():
        scan = re.search(r"Index (?:Only )?Scan (?:using|on) (\S+)", line)
        if scan:
            index = scan.group(1)
        cond = re.search(r"Index Cond: (.*)", line)
        if cond:
            found.append((index, cond.group(1)))
    return found


def indexes_of(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def analyze() -> None:
    """Table statistics brought up to date, as they are on a database that has run a while."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
