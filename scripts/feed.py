#!/usr/bin/env python3
"""Send the repo's sample data to a deployed environment, to try the pipeline in a sandbox.

Batch datasets: each sample file (``datasets/samples/<dataset>.<ext>``) is uploaded to the
landing bucket under ``<dataset>/``, where the ingest function picks it up. Streaming datasets:
each line of the sample file is put to the dataset's Firehose delivery stream as one record.
Bucket and stream names are read from the stacks' outputs. Needs AWS credentials.

    python3 tasks.py feed [ENV]      # or: python scripts/feed.py --env sandbox
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from blueprint.factory import cdk_json_context  # noqa: E402
from local_lake.samples import extension, sample_file  # noqa: E402
from model.datasets import Dataset  # noqa: E402
from model.declarations import load_datasets  # noqa: E402

SAMPLES = ROOT / "datasets" / "samples"
BATCH_LIMIT = 500  # records per PutRecordBatch call


def feed(
    *,
    s3: Any,
    firehose: Any,
    landing_bucket: str,
    streams: dict[str, str],
    datasets: Sequence[Dataset],
    samples: Path = SAMPLES,
    now: datetime | None = None,
) -> list[str]:
    """Send every sample; return one line per dataset saying what was sent where."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    report = []
    for dataset in datasets:
        sample = sample_file(dataset, samples)
        if sample is None:
            report.append(f"{dataset.name}: no sample file in {samples.name}/, skipped")
        elif dataset.source.mode == "batch":
            key = f"{dataset.name}/sample-{stamp}{extension(sample)}"
            s3.upload_file(str(sample), landing_bucket, key)
            report.append(f"{dataset.name}: uploaded {sample.name} to s3://{landing_bucket}/{key}")
        else:
            body = sample.read_bytes()
            body = gzip.decompress(body) if sample.suffix == ".gz" else body
            lines = [line for line in body.splitlines() if line.strip()]
            for start in range(0, len(lines), BATCH_LIMIT):
                records = [{"Data": line + b"\n"} for line in lines[start : start + BATCH_LIMIT]]
                _put(firehose, streams[dataset.name], records)
            report.append(
                f"{dataset.name}: put {len(lines)} records to stream {streams[dataset.name]}"
            )
    return report


def _put(firehose: Any, stream: str, records: list[dict[str, bytes]], attempts: int = 4) -> None:
    """Put records, sending again those Firehose did not accept (throttling), with backoff."""
    for attempt in range(attempts):
        response = firehose.put_record_batch(DeliveryStreamName=stream, Records=records)
        if not response["FailedPutCount"]:
            return
        records = [r for r, result in zip(records, response["RequestResponses"], strict=True)
                   if "ErrorCode" in result]  # fmt: skip
        time.sleep(0.2 * 2**attempt)
    raise RuntimeError(f"{stream}: {len(records)} records were not accepted after {attempts} tries")


def outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="sandbox", help="environment of cdk.json (sandbox)")
    args = parser.parse_args()
    project = cdk_json_context()["project"]
    datasets = load_datasets(ROOT / "datasets")
    cloudformation = boto3.client("cloudformation")
    landing = outputs(cloudformation, f"{project}-{args.env}-storage")["LandingBucketName"]
    streams = {
        d.name: outputs(cloudformation, f"{project}-{args.env}-dataset-{d.name}")[
            "DeliveryStreamName"
        ]
        for d in datasets
        if d.source.mode == "streaming"
    }
    for line in feed(
        s3=boto3.client("s3"),
        firehose=boto3.client("firehose"),
        landing_bucket=landing,
        streams=streams,
        datasets=datasets,
    ):
        print(line)


if __name__ == "__main__":
    main()
