"""Glue job entry point: new raw data of one dataset -> its curated Iceberg table, quarantine.

Only what is Glue's is here: the job's arguments, ``GlueContext`` and ``Job``, the bookmarked
read, the Glue Data Quality call, the CloudWatch metrics and the commit. How raw is read is
``reader.read_raw`` and what the run does with the rows is ``flows.curate``, which the local
run calls too. ``awsglue`` exists only in Glue, so it is imported inside ``main``; the
``glue_jobs`` package reaches the job as the zip of ``--extra-py-files``. The stack sets
exactly the arguments in ``ARGUMENTS`` (a test holds the two together).

Job bookmarks make each run read only the raw files that arrived since the last successful
run. A CSV or JSON-lines dataset's new files are read twice: the bookmarked DynamicFrame read
(``read_options``) says which files are new (the distinct ``attachFilename`` values of its
rows), then ``reader.read_raw`` reads those files. Glue's CSV reader has no encoding option
(it decodes UTF-8, so a latin-1 export would be curated with U+FFFD) and does not flag a row
with a wrong number of fields (a field too many was curated without its extra value), and
the local run cannot run it; the shared reader decodes, flags and runs in both places. The
price is a second pass over the new files. Parquet is typed and has neither problem: its
DynamicFrame is the read. The run then merges its rows into the curated table by primary
key in one Iceberg commit (``flows.merge_curated``), keeping each key's latest record.

Data quality is checked before anything is published: the declared rules are evaluated on
the run's curated rows (results published to CloudWatch and EventBridge); if a rule fails,
the rows go to the quarantine path under ``dq_failed/`` instead of curated, and the run fails,
so the pipeline alerts and nothing bad is readable.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pyspark.sql import DataFrame

from glue_jobs import flows, iceberg, reader

# The job's own arguments, each passed as --<name> by the stack.
ARGUMENTS = (
    "dataset_spec",  # the declaration, as JSON (Dataset.processing_spec)
    "raw_path",  # s3://<raw>/<dataset>/
    "curated_table",  # <curated database>.<dataset>, in the Glue Data Catalog
    "warehouse",  # s3://<curated>/ : the Iceberg catalog's warehouse
    "quarantine_path",  # s3://<raw>/_quarantine/<dataset>/processing/
    "salt_secret_arn",  # Secrets Manager secret holding the salt for hashed columns
    "dq_ruleset",  # the declared quality rules as DQDL ("" when none are declared)
)
FORMATS = {"csv": "csv", "jsonl": "json", "parquet": "parquet"}
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
        format_options["attachFilename"] = flows.SOURCE_FILE
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
    from pyspark.conf import SparkConf
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *ARGUMENTS])
    spec = json.loads(args["dataset_spec"])
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=args["salt_secret_arn"])
    settings = iceberg.glue_catalog_settings(args["warehouse"])
    glue = GlueContext(SparkContext.getOrCreate(SparkConf().setAll(list(settings.items()))))
    # Timestamps without an offset are UTC, as the declarations say, wherever the job runs.
    glue.spark_session.conf.set("spark.sql.session.timeZone", "UTC")
    job = Job(glue)
    job.init(args["JOB_NAME"], args)

    frame = glue.create_dynamic_frame.from_options(**read_options(spec, args["raw_path"]))
    raw = new_rows(glue.spark_session, spec, frame)
    run = flows.curate(
        raw,
        spec,
        salt=secret["SecretString"],
        table=f"{iceberg.GLUE_CATALOG}.{args['curated_table']}",
        quarantine_path=args["quarantine_path"],
        run_id=args.get("JOB_RUN_ID", "unknown"),
        check_quality=lambda curated: evaluate_quality(
            glue, curated, args["dq_ruleset"], spec["name"]
        ),
    )
    job.commit()

    print(json.dumps({"dataset": spec["name"], **run.figures, "failed_rules": run.failed_rules}))
    try:
        publish(boto3.client("cloudwatch"), spec["name"], run.figures)
    except Exception as error:  # the data is written: a metrics outage must not fail the run
        print(json.dumps({"warning": f"metrics not published: {error}"}))
    if run.failed_rules:
        raise RuntimeError(quality_failure(spec["name"], run.failed_rules))


def new_rows(spark: Any, spec: dict[str, Any], frame: Any) -> DataFrame:
    """The rows of the new raw files the bookmarked ``frame`` read, as the shared reader
    reads them (Parquet: the frame's own rows)."""
    if spec["source"]["format"] == "parquet":
        # Values of mixed types in one column (a bad value among numbers) become strings,
        # so the transform sees what arrived, not Glue's struct of alternatives.
        return frame.resolveChoice(choice="cast:string").toDF()  # type: ignore[no-any-return]
    names = frame.toDF().select(flows.SOURCE_FILE).distinct().collect()
    return reader.read_raw(spark, spec, sorted(row[0] for row in names))


def quality_failure(dataset: str, failed_rules: list[str]) -> str:
    """The run's error message when rules fail: marked, naming the dataset and the rules."""
    return f"{DATA_QUALITY_FAILED} for {dataset}: {', '.join(failed_rules)}"


def evaluate_quality(glue: Any, curated: DataFrame, ruleset: str, dataset: str) -> list[str]:
    """Glue Data Quality on the run's curated rows: the names of failed rules ([] without
    declared rules)."""
    if not ruleset:
        return []
    from awsglue.dynamicframe import DynamicFrame
    from awsgluedq.transforms import EvaluateDataQuality

    results = EvaluateDataQuality.apply(
        frame=DynamicFrame.fromDF(curated, glue, "curated"),
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
