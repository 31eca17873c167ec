"""The whole data path on this machine, with no AWS account: ``python3 tasks.py demo``.

What deploys is what runs: the app is synthesized first, and everything the local run needs is
read from the cloud assembly (the ingest function's bundle with its ``datasets.json``, the
Glue tables, each job's arguments, quality ruleset and marts, the saved Athena queries).
moto stands in for S3, Secrets Manager and the Glue catalog, a local SparkSession for Glue,
and DuckDB for Athena. See docs/local-run.md.
"""
