"""The whole data path on this machine, with no AWS account: ``python -m local_lake``
(``python3 tasks.py demo``).

What deploys is what runs: the app is synthesized first, and everything the local run needs is
read from the cloud assembly (the ingest function's bundle with its ``datasets.json``, the
Iceberg tables, each job's arguments, quality ruleset and marts, the saved Athena queries).
moto, as a server on 127.0.0.1, stands in for S3 and Secrets Manager; the ingest bundle runs
in a process of its own, as in Lambda; a local SparkSession runs the Glue jobs' own flows
(``glue_jobs.flows``) on Iceberg tables in a local catalog; DuckDB, over pyiceberg, stands in
for Athena. Two days of arrivals show the merge by key and time travel. See docs/local-run.md.

Modules: ``run`` (the stages in order), ``assembly`` (what is read from the synthesized app),
``aws`` (the moto server, S3 prefixes as local folders), ``lake`` (the stages),
``lambda_process`` (the bundle as Lambda runs it), ``spark`` (the session, the read of raw),
``quality`` (the DQDL rules), ``tables`` (the Iceberg tables of the templates),
``iceberg_jars``, ``time_travel``, ``athena`` (DuckDB), ``samples``, ``report``.
"""
