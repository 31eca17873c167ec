"""Time travel for the local run: a key the latest run changed, as of an earlier snapshot.

Iceberg keeps every snapshot until retention expires it, so a reader can ask what a table held
at an earlier commit: ``VERSION AS OF <snapshot id>`` in Spark (``FOR VERSION AS OF`` in
Athena). The local run shows one such query after the second day: the first key (in key order)
whose values differ between the first day's snapshot and now, with the columns that changed.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import date, datetime
from functools import reduce
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from glue_jobs import transforms
from local_lake.report import TimeTravel


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return str(value)


def changed_key(
    spark: SparkSession, table: str, keys: Sequence[str], snapshot_id: int
) -> TimeTravel | None:
    """The first key whose row differs between ``snapshot_id`` and now (the lineage column
    aside, which every rewritten row changes), read both ways; None when no key changed."""
    then = spark.sql(f"SELECT * FROM {table} VERSION AS OF {snapshot_id}")
    now = spark.table(table)
    compared = [c for c in then.columns if c not in keys and c != transforms.LINEAGE]
    differs = reduce(
        operator.or_, (~F.col(f"a.`{c}`").eqNullSafe(F.col(f"b.`{c}`")) for c in compared)
    )
    first = (
        then.alias("a").join(now.alias("b"), list(keys)).where(differs)
        .select(*keys).orderBy(*keys).first()
    )  # fmt: skip
    if first is None:
        return None
    where = " AND ".join(f"`{k}` = {_literal(first[k])}" for k in keys)
    before = spark.sql(f"SELECT * FROM {table} VERSION AS OF {snapshot_id} WHERE {where}").first()
    after = spark.sql(f"SELECT * FROM {table} WHERE {where}").first()
    assert before is not None
    assert after is not None
    columns = [*keys, *(c for c in compared if before[c] != after[c])]
    selected = ", ".join(f"`{c}`" for c in columns)
    sql = f"SELECT {selected} FROM {table} VERSION AS OF {snapshot_id} WHERE {where}"
    then_row = spark.sql(sql).first()
    now_row = spark.sql(f"SELECT {selected} FROM {table} WHERE {where}").first()
    assert then_row is not None
    assert now_row is not None
    count = f"SELECT count(*) FROM {table}"
    return TimeTravel(
        sql=sql,
        snapshot_id=snapshot_id,
        columns=columns,
        then=tuple(then_row),
        now=tuple(now_row),
        rows_then=spark.sql(f"{count} VERSION AS OF {snapshot_id}").first()[0],  # type: ignore[index]
        rows_now=spark.sql(count).first()[0],  # type: ignore[index]
    )
