"""How the jobs reach their Iceberg tables: the Spark catalog settings, and snapshot lookups.

In Glue the catalog is the Glue Data Catalog (Iceberg's ``GlueCatalog``, files through
``S3FileIO``, the ``--datalake-formats iceberg`` libraries); the local run and the tests use a
catalog of the same Iceberg release on a local folder. Either way a table is named
``<catalog>.<database>.<table>`` and every statement the flows run is the same.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

GLUE_CATALOG = "glue_catalog"
EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"


def glue_catalog_settings(warehouse: str) -> dict[str, str]:
    """Spark settings that make ``glue_catalog`` the Glue Data Catalog, as Glue documents."""
    prefix = f"spark.sql.catalog.{GLUE_CATALOG}"
    return {
        "spark.sql.extensions": EXTENSIONS,
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{prefix}.warehouse": warehouse,
    }


def folder_catalog_settings(catalog: str, warehouse: str) -> dict[str, str]:
    """Spark settings that make ``catalog`` an Iceberg catalog on a local folder."""
    prefix = f"spark.sql.catalog.{catalog}"
    return {
        "spark.sql.extensions": EXTENSIONS,
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.type": "hadoop",
        f"{prefix}.warehouse": warehouse,
    }


def current_snapshot(spark: SparkSession, table: str) -> int | None:
    """The id of the table's current snapshot (None before its first commit)."""
    rows = spark.sql(
        f"SELECT snapshot_id FROM {table}.history WHERE is_current_ancestor "
        "ORDER BY made_current_at DESC LIMIT 1"
    ).collect()
    return rows[0]["snapshot_id"] if rows else None
