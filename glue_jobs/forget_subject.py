"""Glue job entry point: erase one data subject (a person) from one dataset, in every zone.

Only what is Glue's is here: the job's arguments, the session with the Glue Data Catalog's
Iceberg tables, the request and the salt, the record written to the audit store. What the
erasure does is ``erasure.forget``, which the local run and the tests call too.

The person's value never is an argument: the job reads it from the request object the
``tasks.py forget`` command wrote (``--request_path`` + ``<request_id>.json``), so it is
in no job run's arguments, no CloudTrail record and no log line. The job run is started with
``--request_id`` alone; the command deletes the request object once every job has ended.
The run fails, after writing its record, when the search that follows the erasure still
finds the subject anywhere (``verification.found``): a pipeline run that committed the
person's rows again while it ran, say. Running the request again finishes the work.
"""

from __future__ import annotations

import json
import sys

from glue_jobs import erasure, iceberg

ARGUMENTS = (
    "dataset_spec",  # the declaration, as JSON (Dataset.processing_spec)
    "subject_column",  # the declared subject column (Dataset.subject)
    "marts_spec",  # the dataset's marts, as JSON ([] when none)
    "curated_table",  # <curated database>.<dataset>, in the Glue Data Catalog
    "analytics_database",  # the analytics database, holding each mart's table
    "warehouse",  # s3://<curated>/ : the Iceberg catalog's warehouse
    "landing_path",  # s3://<landing>/<dataset>/
    "raw_path",  # s3://<raw>/<dataset>/
    "quarantine_path",  # s3://<raw>/_quarantine/<dataset>/ : files and rows quarantined
    "request_path",  # s3://<raw>/_erasure/requests/ : the request objects
    "records_path",  # s3://<audit>/erasure/ : the audit records
    "salt_secret_arn",  # Secrets Manager secret holding the salt for hashed columns
)
# Given to each run, not set by the stack.
RUN_ARGUMENTS = ("request_id",)


def main() -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.conf import SparkConf
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *ARGUMENTS, *RUN_ARGUMENTS])
    settings = iceberg.glue_catalog_settings(args["warehouse"])
    glue = GlueContext(SparkContext.getOrCreate(SparkConf().setAll(list(settings.items()))))
    glue.spark_session.conf.set("spark.sql.session.timeZone", "UTC")
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    s3 = boto3.client("s3")
    request = erasure.read_request(s3, args["request_path"], args["request_id"])
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=args["salt_secret_arn"])
    record = erasure.forget(
        glue.spark_session,
        s3,
        request,
        erasure.Target(
            spec=json.loads(args["dataset_spec"]),
            subject_column=args["subject_column"],
            marts=json.loads(args["marts_spec"]),
            curated_table=f"{iceberg.GLUE_CATALOG}.{args['curated_table']}",
            analytics_database=f"{iceberg.GLUE_CATALOG}.{args['analytics_database']}",
            folders={
                "landing": args["landing_path"],
                "raw": args["raw_path"],
                "quarantine": args["quarantine_path"],
            },
        ),
        salt=secret["SecretString"],
    )
    erasure.write_record(s3, args["records_path"], record)
    job.commit()
    print(json.dumps(erasure.summary(record)))
    if record["verification"]["found"]:
        raise RuntimeError(erasure.remains(record))


if __name__ == "__main__":
    main()
