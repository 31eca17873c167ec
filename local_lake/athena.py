"""DuckDB in Athena's place: a view per table of the local Glue catalog, then the saved queries.

Athena reads what the Glue catalog says a table is (its columns, types and S3 location); so
does this, from moto's catalog, over the Parquet that moto's S3 holds at the table's
location, copied down first.
"""

from __future__ import annotations

from typing import Any

from local_lake.assembly import Assembly
from local_lake.aws import S3Folders
from local_lake.report import QueryResult

DUCKDB_TYPES = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE",
                "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"}  # fmt: skip


def query(assembly: Assembly, glue: Any, folders: S3Folders) -> list[QueryResult]:
    """Each saved query, on DuckDB, over the tables of the Glue catalog."""
    import duckdb

    connection = duckdb.connect()
    for database in assembly.databases:
        name = database["Name"]
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=name):
            for table in page["TableList"]:
                connection.execute(_view(name, table, folders))
    results = []
    for plan in assembly.plans:
        for saved in plan.queries:
            relation = connection.sql(saved.sql)
            columns, rows = list(relation.columns), relation.fetchall()
            results.append(QueryResult(plan.dataset.name, saved.name, columns, rows))
    return results


def _view(database: str, table: dict[str, Any], folders: S3Folders) -> str:
    """A view over the table's Parquet in S3, typed as the catalog declares it."""
    storage = table["StorageDescriptor"]
    columns = [*storage["Columns"], *table.get("PartitionKeys", [])]
    typed = ", ".join(
        f'CAST("{c["Name"]}" AS {DUCKDB_TYPES.get(c["Type"], c["Type"].upper())}) AS "{c["Name"]}"'
        for c in columns
    )
    folder = folders.download(storage["Location"])
    name = f'"{database}"."{table["Name"]}"'
    if not any(folder.rglob("*.parquet")):  # nothing written yet: an empty table
        nulls = ", ".join(f'NULL AS "{c["Name"]}"' for c in columns)
        return f"CREATE VIEW {name} AS SELECT {typed} FROM (SELECT {nulls}) WHERE false"
    source = f"read_parquet('{folder.as_posix()}/**/*.parquet', hive_partitioning = true)"
    return f"CREATE VIEW {name} AS SELECT {typed} FROM {source}"
