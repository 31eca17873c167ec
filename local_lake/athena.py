"""DuckDB in Athena's place: a view per Iceberg table, then the saved queries.

Athena reads an Iceberg table through its metadata: the Glue catalog points at the current
metadata file, which lists the snapshot's data files and delete files. So does this, with
pyiceberg, on the local catalog's folders (the Hadoop catalog names the current metadata file
in ``metadata/version-hint.text``): each table's current snapshot is scanned into Arrow, with
the merge-on-read delete files applied (an updated row is read once, in its latest version),
and exposed to DuckDB as the view ``"<database>"."<table>"`` that the saved queries name. The
files under a table are never read directly: a row deleted or replaced by a later commit is
still in them. (DuckDB's own ``iceberg`` extension is on PyPI only for DuckDB 1.4, as
``duckdb-ext-iceberg``; the DuckDB pinned here is 2.0, so pyiceberg reads the tables.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from local_lake.assembly import Assembly
from local_lake.report import QueryResult

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.table import StaticTable


def iceberg_table(folder: Path) -> StaticTable:
    """The table in ``folder`` (of a Hadoop catalog) at its current metadata version."""
    from pyiceberg.table import StaticTable

    metadata = folder / "metadata"
    version = (metadata / "version-hint.text").read_text().strip()
    return StaticTable.from_metadata(str(metadata / f"v{version}.metadata.json"))


def connect(tables: Mapping[str, Path]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per table (``database.table`` -> its folder), each
    over the table's current snapshot as pyiceberg reads it."""
    import duckdb

    connection = duckdb.connect()
    for qualified, folder in tables.items():
        database, name = qualified.split(".")
        rows = iceberg_table(folder).scan().to_arrow()
        source = f"iceberg__{database}__{name}"
        connection.register(source, rows)
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
        connection.execute(f'CREATE VIEW "{database}"."{name}" AS SELECT * FROM "{source}"')
    return connection


def query(assembly: Assembly, tables: Mapping[str, Path]) -> list[QueryResult]:
    """Each saved query, on DuckDB, over the lake's Iceberg tables."""
    connection = connect(tables)
    results = []
    for plan in assembly.plans:
        for saved in plan.queries:
            relation = connection.sql(saved.sql)
            columns, rows = list(relation.columns), relation.fetchall()
            results.append(QueryResult(plan.dataset.name, saved.name, columns, rows))
    return results
