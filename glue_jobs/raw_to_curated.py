"""Glue job entry point: new raw data of one dataset -> curated Parquet and quarantine.

``awsglue`` exists only in Glue, so it is imported inside ``main``; the transform itself is in
``transforms.py`` (deployed beside this script with ``--extra-py-files``) and runs the same on
a local SparkSession in the tests. The stack sets exactly the arguments in ``ARGUMENTS``
(a test holds the two together).

Job bookmarks make each run read only the raw files that arrived since the last successful
run. The run then rewrites the curated partitions its rows touch, merged with what earlier
runs wrote there, keeping each key's latest record.

Data quality is checked before anything is published: the declared rules are evaluated on
the run's curated rows (results published to CloudWatch and EventBridge); if a rule fails,
the rows go to the quarantine path under ``dq_failed/`` instead of curated, and the run fails,
so the pipeline alerts and nothing bad is readable.
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
    "dq_ruleset",  # the declared quality rules as DQDL ("" when none are declared)
)
FORMATS = {"csv": "csv", "jsonl": "json", "parquet": "parquet"}
SOURCE_FILE = "_source_file"
METRICS_NAMESPACE = "DataLake/Processing"
# In the run's error message when a declared rule fails: the pipeline tells a data-quality
# failure from any other by it (a test holds it equal to the pipeline's).
DATA_QUALITY_FAILED = "DATA_QUALITY_FAILED"


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


def ingest_dates(df: Any, source_column: str) -> Any:
    """The raw file's ``ingest_date=YYYY-MM-DD`` folder, as a date column, for every row."""
    from pyspark.sql import functions as F

    day = F.regexp_extract(F.col(source_column), r"ingest_date=(\d{4}-\d{2}-\d{2})", 1)
    return F.to_date(F.when(day == "", None).otherwise(day))


def main() -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    import transforms

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *ARGUMENTS])
    spec = json.loads(args["dataset_spec"])
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=args["salt_secret_arn"])
    glue = GlueContext(SparkContext.getOrCreate())
    spark = glue.spark_session
    # Timestamps without an offset are UTC, as the declarations say, wherever the job runs.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    run = args.get("JOB_RUN_ID", "unknown")

    frame = glue.create_dynamic_frame.from_options(**read_options(spec, args["raw_path"]))
    # Values of mixed types in one column (a bad value among numbers) become strings, so
    # the transform sees what arrived, not Glue's struct of alternatives.
    df = frame.resolveChoice(choice="cast:string").toDF()
    df = df.withColumn(transforms.INGEST_DATE, ingest_dates(df, SOURCE_FILE))
    df = df.drop(SOURCE_FILE).cache()
    rows_in = df.count()
    if rows_in and df.filter(df[transforms.INGEST_DATE].isNull()).limit(1).count():
        raise RuntimeError("raw rows without an ingest_date folder: dedup order is unknown")

    curated, quarantine = transforms.raw_to_curated(df, spec, salt=secret["SecretString"])
    figures = transforms.counts(rows_in, curated, quarantine)
    failed_rules = []
    if figures["rows_written"] and args["dq_ruleset"]:
        failed_rules = evaluate_quality(glue, DynamicFrame.fromDF(curated, glue, "curated"),
                                        args["dq_ruleset"], spec["name"])  # fmt: skip
    if failed_rules:
        curated.write.mode("append").json(f"{args['quarantine_path']}dq_failed/run={run}/")
    elif figures["rows_written"]:
        # Rewrite the touched partitions with each key's latest record (dynamic overwrite
        # replaces only the partitions written). Raw stays the replayable record.
        spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        existing = read_existing(spark, args["curated_path"])
        merged = transforms.merge_with_existing(curated, existing, spec).cache()
        merged.count()  # materialize before the partitions it was read from are replaced
        transforms.parquet_writer(
            transforms.layout_for_writing(merged, spec), spec["partition_by"]
        ).mode("overwrite").parquet(args["curated_path"])
    if figures["rows_quarantined"]:
        quarantine.write.mode("append").json(f"{args['quarantine_path']}run={run}/")
    job.commit()

    print(json.dumps({"dataset": spec["name"], **figures, "failed_rules": failed_rules}))
    try:
        publish(boto3.client("cloudwatch"), spec["name"], figures)
    except Exception as error:  # the data is written: a metrics outage must not fail the run
        print(json.dumps({"warning": f"metrics not published: {error}"}))
    if failed_rules:
        raise RuntimeError(quality_failure(spec["name"], failed_rules))


def quality_failure(dataset: str, failed_rules: list[str]) -> str:
    """The run's error message when rules fail: marked, naming the dataset and the rules."""
    return f"{DATA_QUALITY_FAILED} for {dataset}: {', '.join(failed_rules)}"


def read_existing(spark: Any, path: str) -> Any:
    """What earlier runs wrote to curated, or None before the first run."""
    try:
        return spark.read.parquet(path)
    except Exception as error:  # Spark raises AnalysisException for a path with no data
        if "Path does not exist" in str(error) or "Unable to infer schema" in str(error):
            return None
        raise


def evaluate_quality(glue: Any, frame: Any, ruleset: str, dataset: str) -> list[str]:
    """Evaluate the declared rules on the run's curated rows; the names of failed rules."""
    from awsgluedq.transforms import EvaluateDataQuality

    results = EvaluateDataQuality.apply(
        frame=frame,
        ruleset=ruleset,
        publishing_options={
            "dataQualityEvaluationContext": dataset,
            "enableDataQualityCloudWatchMetrics": True,
            "enableDataQualityResultsPublishing": True,
        },
    ).toDF()
    return [row["Rule"] for row in results.filter("Outcome = 'Failed'").collect()]


def publish(cloudwatch: Any, dataset: str, figures: dict[str, Any]) -> None:
    """Row counts, and quarantined rows by reason (duplicates apart from real failures)."""
    dimensions = [{"Name": "Dataset", "Value": dataset}]
    data = [
        {"MetricName": name, "Value": figures[key], "Unit": "Count", "Dimensions": dimensions}
        for name, key in (("RowsIn", "rows_in"), ("RowsWritten", "rows_written"),
                          ("RowsQuarantined", "rows_quarantined"))
    ]  # fmt: skip
    data += [
        {"MetricName": "RowsQuarantinedByReason", "Value": count, "Unit": "Count",
         "Dimensions": [*dimensions, {"Name": "Reason", "Value": reason}]}
        for reason, count in figures["quarantined_by_reason"].items()
    ]  # fmt: skip
    cloudwatch.put_metric_data(Namespace=METRICS_NAMESPACE, MetricData=data)


if __name__ == "__main__":
    main()
