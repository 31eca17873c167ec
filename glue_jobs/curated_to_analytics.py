"""Glue job entry point: a dataset's curated table -> its analytics marts.

Each run rebuilds the marts from the whole curated table and overwrites the partitions it
writes (dynamic partition overwrite), so a rerun gives the same result.
"""

from __future__ import annotations

import json
import sys

ARGUMENTS = (
    "marts_spec",  # the dataset's marts, as JSON (Mart.spec)
    "curated_path",  # s3://<curated>/<dataset>/
    "analytics_path",  # s3://<analytics>/ ; each mart goes to <mart>/
)


def main() -> None:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    import marts
    import transforms

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *ARGUMENTS])
    glue = GlueContext(SparkContext.getOrCreate())
    spark = glue.spark_session
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    curated = spark.read.parquet(args["curated_path"])
    for mart in json.loads(args["marts_spec"]):
        table = marts.build_mart(curated, mart)
        writer = transforms.parquet_writer(table, mart["partition_by"]).mode("overwrite")
        writer.parquet(f"{args['analytics_path']}{mart['name']}/")
        print(json.dumps({"mart": mart["name"], "rows": table.count()}))
    job.commit()


if __name__ == "__main__":
    main()
