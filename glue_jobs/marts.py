"""curated -> analytics: each mart is one Spark SQL query over the view ``curated``.

No ``awsglue`` here: ``flows.write_marts`` reads curated and writes each mart, for the Glue job
(``curated_to_analytics.py``) and the local run alike; the tests run the same function on a
local SparkSession.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame


def build_mart(curated: DataFrame, mart: Mapping[str, Any]) -> DataFrame:
    """Run the mart's query and return its declared columns, in declared order and types.

    A query whose result lacks a declared column fails here, before anything is written.
    """
    curated.createOrReplaceTempView("curated")
    result = curated.sparkSession.sql(mart["sql"])
    missing = [c["name"] for c in mart["columns"] if c["name"] not in result.columns]
    if missing:
        raise ValueError(f"mart {mart['name']}: the query returns no column {missing}")
    return result.select(*[result[c["name"]].cast(c["type"]).alias(c["name"])
                           for c in mart["columns"]])  # fmt: skip
