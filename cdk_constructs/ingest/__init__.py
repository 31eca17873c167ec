"""Ingest: files from landing to raw (a Lambda function), and streams to raw (Firehose)."""
