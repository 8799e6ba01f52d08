"""The PostgreSQL server of a test run: reach it, make a migrated template, copy and drop databases."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from svidok.foundation.database import Database
from svidok.foundation.schema import migrate

_numbers = itertools.count(1)


@dataclass(frozen=True)
class PostgreSQLServer:
    admin_url: str

    @staticmethod
    @cache
    def reach(url: str) -> "PostgreSQLServer":
        """The server, or a skip (locally) / a failure (SVIDOK_TEST_REQUIRE_POSTGRESQL=1) saying why not."""
        server = PostgreSQLServer(url)
        try:
            with server._admin() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.DBAPIError as exc:
            reason = (f"PostgreSQL is not reachable at {make_url(url).render_as_string(hide_password=True)}"
                      f" ({str(exc.orig).strip().splitlines()[0]})")
            if os.environ.get("SVIDOK_TEST_REQUIRE_POSTGRESQL") == "1":
                pytest.exit(f"FAILED: {reason}; this run requires it (SVIDOK_TEST_REQUIRE_POSTGRESQL=1)", returncode=3)
            pytest.skip(reason, allow_module_level=True)
        return server

    def _admin(self) -> sa.Connection:
        engine = sa.create_engine(make_url(self.admin_url).set(drivername="postgresql+psycopg"),
                                  isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        return engine.connect()

    def _url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create_template(self) -> str:
        name = f"svidok_template_{os.getpid()}"
        with self._admin() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        db = Database(self._url(name))
        try:
            migrate(db)
        finally:
            db.close()
        print(f"\n[tests on PostgreSQL: template database {name}]", file=sys.stderr)
        return self._url(name)

    def create_empty(self) -> str:
        name = f"svidok_empty_{os.getpid()}_{next(_numbers)}"
        with self._admin() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self._url(name)

    def create_from(self, template_url: str) -> str:
        template = make_url(template_url).database
        name = f"svidok_test_{os.getpid()}_{next(_numbers)}"
        with self._admin() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self._url(name)

    @contextmanager
    def fresh(self, template_url: str) -> Iterator[str]:
        """A new database copied from the template, dropped afterwards."""
        url = self.create_from(template_url)
        try:
            yield url
        finally:
            self.drop(url)

    def drop(self, url: str) -> None:
        with self._admin() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
