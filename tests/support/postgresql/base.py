"""The suite's PostgreSQL backend: Django's own, but a transactional test's flush deletes rows
instead of truncating tables.

After each transactional test Django empties every table with one TRUNCATE. On PostgreSQL a
TRUNCATE gives each of the 64 tables a new file: with fsync on, a flush cost 0.3 s on an idle
machine and 1.4 to 2 s at load average 5 to 8, for tables that hold a few rows. DELETE of every
table, sent as one statement in the flush's transaction, brought it to 0.06 s at load average 5
(post_migrate included). Django creates PostgreSQL's foreign keys DEFERRABLE INITIALLY DEFERRED,
so the order of the deletes does not matter and the keys are checked, all rows gone, at commit.
The tables end as empty as after a TRUNCATE, the content types and permissions with them (the
post_migrate signal makes those again, as after a TRUNCATE); neither resets sequences. A flush
asked to reset them, or to cascade to tables it was not given, takes Django's TRUNCATE.
tests/conftest.py selects this backend for the test process when DATABASE_URL names PostgreSQL;
the processes the tests start keep Django's.
"""

from __future__ import annotations

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or allow_cascade:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        # One statement: one round trip instead of one per table.
        return [
            "; ".join(
                f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))}"
                for table in tables
            )
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
