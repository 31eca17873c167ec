"""Glue job entry point: a dataset's curated table -> its analytics marts.

Only what is Glue's is here (arguments, ``GlueContext`` and ``Job``, the commit); building and
writing the marts is ``flows.write_marts``, which the local run calls too. Each run rebuilds
the marts from the whole curated table and overwrites the partitions it writes (dynamic
partition overwrite), so a rerun gives the same result.
"""

from __future__ import annotations

import json
import sys

from glue_jobs import flows

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

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *ARGUMENTS])
    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    rows = flows.write_marts(
        glue.spark_session,
        json.loads(args["marts_spec"]),
        curated_path=args["curated_path"],
        analytics_path=args["analytics_path"],
    )
    for mart, count in rows.items():
        print(json.dumps({"mart": mart, "rows": count}))
    job.commit()


if __name__ == "__main__":
    main()
