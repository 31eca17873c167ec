"""Reading what a declaration delivers: its ``[[marts]]`` and its ready ``[[queries]]``.

A mart is one Spark SQL query over the dataset's curated table, with declared columns; a
query is Athena SQL over the dataset's own tables, saved for its readers. Both are checked
here against the rest of the declaration (see ``model.declarations``).
"""

from __future__ import annotations

import re

from model.datasets import (
    NAME_EXPECTED,
    NAME_RE,
    PARTITION_TYPES,
    TYPE_EXPECTED,
    Dataset,
    DatasetError,
    Mart,
    MartColumn,
    Query,
    column_type_is_valid,
    declaration_fields,
)
from model.fields import Fields
from model.mart_columns import check_mart_columns

_QUERY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TABLE_REF_RE = re.compile(r"\{(curated|analytics)\}\.([a-z_][a-z0-9_]*)")


def read_marts(fields: Fields) -> tuple[Mart, ...]:
    raw = fields.get("marts", [])
    if not isinstance(raw, list):
        raise fields.fail("marts", "a list of [[marts]] tables")
    marts = []
    for index, data in enumerate(raw):
        mart = declaration_fields(data, fields.file, f"marts[{index}]")
        raw_columns = mart.get("columns")
        if not isinstance(raw_columns, list) or not raw_columns:
            raise mart.fail("columns", "one or more {name, type, description} tables")
        columns = []
        for number, column in enumerate(raw_columns):
            entry = declaration_fields(column, fields.file, f"marts[{index}].columns[{number}]")
            columns.append(
                MartColumn(
                    name=entry.text("name", valid=NAME_RE.match, expected=NAME_EXPECTED),
                    type=entry.text("type", valid=column_type_is_valid, expected=TYPE_EXPECTED),
                    description=entry.text("description"),
                )
            )
            entry.reject_unknown()
        marts.append(
            Mart(
                name=mart.text("name", valid=NAME_RE.match, expected=NAME_EXPECTED),
                description=mart.text("description"),
                sql=mart.text("sql", expected="a Spark SQL query that reads the view curated"),
                columns=tuple(columns),
                partition_by=mart.names("partition_by", []),
            )
        )
        mart.reject_unknown()
    return tuple(marts)


def read_queries(fields: Fields) -> tuple[Query, ...]:
    raw = fields.get("queries", [])
    if not isinstance(raw, list):
        raise fields.fail("queries", "a list of [[queries]] tables")
    queries = []
    for index, data in enumerate(raw):
        query = declaration_fields(data, fields.file, f"queries[{index}]")
        queries.append(
            Query(
                name=query.text("name", valid=_QUERY_NAME_RE.match, expected=NAME_EXPECTED),
                description=query.text("description"),
                sql=query.text(
                    "sql",
                    valid=_TABLE_REF_RE.search,
                    expected="Athena SQL naming its tables as {curated}.<table> or "
                    "{analytics}.<table>",
                ),
            )
        )
        query.reject_unknown()
    names = [q.name for q in queries]
    if len(set(names)) != len(names):
        raise fields.fail("queries", "queries with unique names", names)
    return tuple(queries)


def check_queries(dataset: Dataset, file: str) -> None:
    """A query reads this dataset's curated table or its marts, nothing else."""
    own = {("curated", dataset.name), *(("analytics", m.name) for m in dataset.marts)}
    for index, query in enumerate(dataset.queries):
        for zone, table in _TABLE_REF_RE.findall(query.sql):
            if (zone, table) not in own:
                tables = ", ".join(f"{{{z}}}.{t}" for z, t in sorted(own))
                raise DatasetError(
                    f"{file}: queries[{index}].sql reads {{{zone}}}.{table}: expected this "
                    f"dataset's tables: {tables}"
                )


def check_marts(dataset: Dataset, file: str) -> None:
    """Unique columns, none of them personal data, date partitions, a query of curated that
    selects the declared columns in types that hold them (``model.mart_columns``)."""
    personal = {c.name for c in dataset.columns if c.pii}
    for index, mart in enumerate(dataset.marts):
        where = f"{file}: marts[{index}]"
        types = {c.name: c.type for c in mart.columns}
        if len(types) != len(mart.columns):
            raise DatasetError(f"{where}.columns: expected unique column names")
        for name in types:
            if name in personal:
                raise DatasetError(
                    f"{where}.columns: {name!r}: expected no personal-data column; marts are "
                    "readable by every reader of the dataset"
                )
        if any(types.get(partition) not in PARTITION_TYPES for partition in mart.partition_by):
            raise DatasetError(
                f"{where}.partition_by = {list(mart.partition_by)!r}: expected columns of the "
                f"mart of type {', '.join(PARTITION_TYPES)}"
            )
        if "curated" not in mart.sql:
            raise DatasetError(f"{where}.sql: expected a query that reads the view curated")
        check_mart_columns(dataset, mart, where)
