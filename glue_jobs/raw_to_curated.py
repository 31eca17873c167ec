"""Glue job entry point: new raw data of one dataset -> curated Parquet and quarantine.

``awsglue`` exists only in Glue, so it is imported inside ``main``; the transform itself is in
``transforms.py`` (deployed beside this script with ``--extra-py-files``) and runs the same on
a local SparkSession in the tests. The stack sets exactly the arguments in ``ARGUMENTS``
(a test holds the two together).

Job bookmarks make each run read only the raw files that arrived since the last successful
run. Deduplication therefore keeps the latest record per key among those files; records
already in curated from earlier runs are not rewritten.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# The job's own arguments, each passed as --<name> by the stack.
ARGUMENTS = (
    "dataset_spec",  # the declaration, as JSON (Dataset.processing_spec)
    "raw_path",  # s3://<raw>/<dataset>/
    "curated_path",  # s3://<curated>/<dataset>/
    "quarantine_path",  # s3://<raw>/_quarantine/<dataset>/processing/
    "salt_secret_arn",  # Secrets Manager secret holding the salt for hashed columns
)
FORMATS = {"csv": "csv", "jsonl": "json", "parquet": "parquet"}
SOURCE_FILE = "_source_file"
METRICS_NAMESPACE = "DataLake/Processing"


def read_options(spec: dict[str, Any], raw_path: str) -> dict[str, Any]:
    """How Glue reads the dataset's raw files (new ones only, through the bookmark)."""
    source = spec["source"]
    format_options: dict[str, Any] = {}
    if source["format"] == "csv":
        format_options = {"withHeader": source["header"], "separator": source["delimiter"]}
    if source["format"] != "parquet":
        format_options["attachFilename"] = SOURCE_FILE
    return {
        "connection_type": "s3",
        "connection_options": {"paths": [raw_path], "recurse": True},
        "format": FORMATS[source["format"]],
        "format_options": format_options,
        "transformation_ctx": "raw",
    }


def main() -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql import functions as F

    import transforms

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *ARGUMENTS])
    spec = json.loads(args["dataset_spec"])
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=args["salt_secret_arn"])
    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args["JOB_NAME"], args)

    frame = glue.create_dynamic_frame.from_options(**read_options(spec, args["raw_path"]))
    df = frame.toDF()
    if SOURCE_FILE not in df.columns:
        df = df.withColumn(SOURCE_FILE, F.input_file_name())
    day = F.regexp_extract(F.col(SOURCE_FILE), r"ingest_date=(\d{4}-\d{2}-\d{2})", 1)
    df = df.withColumn(transforms.INGEST_DATE, F.to_date(day)).drop(SOURCE_FILE).cache()
    rows_in = df.count()

    curated, quarantine = transforms.raw_to_curated(df, spec, salt=secret["SecretString"])
    figures = transforms.counts(rows_in, curated, quarantine)
    if figures["rows_written"]:
        transforms.layout_for_writing(curated, spec).write.mode("append").partitionBy(
            *spec["partition_by"]
        ).option("compression", "snappy").parquet(args["curated_path"])
    if figures["rows_quarantined"]:
        run = args.get("JOB_RUN_ID", "unknown")
        quarantine.write.mode("append").json(f"{args['quarantine_path']}run={run}/")

    print(json.dumps({"dataset": spec["name"], **figures}))
    boto3.client("cloudwatch").put_metric_data(
        Namespace=METRICS_NAMESPACE,
        MetricData=[
            {"MetricName": name, "Value": figures[key], "Unit": "Count",
             "Dimensions": [{"Name": "Dataset", "Value": spec["name"]}]}
            for name, key in (("RowsIn", "rows_in"), ("RowsWritten", "rows_written"),
                              ("RowsQuarantined", "rows_quarantined"))
        ],
    )  # fmt: skip
    job.commit()


if __name__ == "__main__":
    main()
