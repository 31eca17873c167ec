"""Glue job entry point: a dataset's curated table -> its analytics marts.

Only what is Glue's is here (arguments, ``GlueContext`` and ``Job``, the commit); building and
writing the marts is ``flows.write_marts``, which the local run calls too. Each run rebuilds
each mart from the whole curated table and replaces the mart's Iceberg table in one commit,
so a rerun gives the same result and no reader sees a partial mart.
"""

from __future__ import annotations

import json
import sys

from glue_jobs import flows, iceberg

ARGUMENTS = (
    "marts_spec",  # the dataset's marts, as JSON (Mart.spec)
    "curated_table",  # <curated database>.<dataset>, in the Glue Data Catalog
    "analytics_database",  # the analytics database, holding each mart's table
    "warehouse",  # s3://<analytics>/ : the Iceberg catalog's warehouse
)


def main() -> None:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.conf import SparkConf
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *ARGUMENTS])
    settings = iceberg.glue_catalog_settings(args["warehouse"])
    glue = GlueContext(SparkContext.getOrCreate(SparkConf().setAll(list(settings.items()))))
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    rows = flows.write_marts(
        glue.spark_session,
        json.loads(args["marts_spec"]),
        curated_table=f"{iceberg.GLUE_CATALOG}.{args['curated_table']}",
        analytics_database=f"{iceberg.GLUE_CATALOG}.{args['analytics_database']}",
    )
    for mart, count in rows.items():
        print(json.dumps({"mart": mart, "rows": count}))
    job.commit()


if __name__ == "__main__":
    main()
