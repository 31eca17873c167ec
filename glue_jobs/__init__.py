"""The Glue jobs' runtime: entry points, and the plain functions every runner shares.

``raw_to_curated`` and ``curated_to_analytics`` are the scripts Glue runs; they keep only what
is Glue's (arguments, ``GlueContext``, the bookmarked read, Data Quality, metrics). What they
do with the data is in ``reader`` (the read of raw files), ``flows`` (the whole curation and
marts flows), ``transforms``, ``casts`` and ``marts``: plain PySpark, no ``awsglue``, so the
local run and the tests call the same code on a local SparkSession. The package ships to Glue
whole, as the zip of ``--extra-py-files``, and imports nothing of the CDK app (an import
contract of pyproject.toml holds it so).
"""
