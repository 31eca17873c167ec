#!/usr/bin/env python3
"""Time the ingest function's read of a landed file: one pass that hashes every byte and
checks every row (``lambda/ingest/content.py`` ``scan``), on generated orders as CSV, as
gzip-compressed CSV and as JSON lines. Figures are printed, never asserted:

- MB/s of content per format on one core of this machine;
- what that means for each environment's largest file (``maxFileMegabytes`` in cdk.json) at
  the function's memory: Lambda gives a function one vCPU at 1,769 MB and a share below, and
  the function has 15 minutes.

    python3 tasks.py bench-ingest      # or: python scripts/bench_ingest.py --rows 200000
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "ingest"), str(ROOT / "scripts")]

from bench_orders import generate  # noqa: E402

from model.declarations import load_dataset  # noqa: E402
from model.environments import load_config  # noqa: E402

from content import scan  # noqa: E402

FULL_VCPU_MB = 1769  # Lambda's memory size that comes with one whole vCPU
TIMEOUT_S = 15 * 60


def _context() -> dict[str, object]:
    """cdk.json's context, as synth reads it (without importing the CDK)."""
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def _files(rows: int) -> dict[str, tuple[bytes, dict[str, object]]]:
    spec = load_dataset(ROOT / "datasets" / "orders.toml").landing_spec()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        generate(path, rows, days=30)
        text = path.read_bytes()
    records = csv.DictReader(io.StringIO(text.decode()))
    lines = "".join(json.dumps(r) + "\n" for r in records).encode()
    return {
        "csv": (text, spec),
        "csv, gzip": (gzip.compress(text, 6), spec),
        "json lines": (lines, {**spec, "format": "jsonl"}),
    }


def _rate(data: bytes, spec: dict[str, object]) -> tuple[float, int]:
    start = time.perf_counter()
    result = scan(io.BytesIO(data), spec, max_bytes=1 << 40, gz_name=False)
    seconds = time.perf_counter() - start
    assert result.rejection is None, result.rejection
    return result.findings.content_bytes / seconds / 1e6, result.findings.rows or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="orders per file (200000)")
    parser.add_argument(
        "--memory", type=int, default=512, help="the function's memory in MB (512, as deployed)"
    )
    args = parser.parse_args()
    share = min(1.0, args.memory / FULL_VCPU_MB)
    largest = {env: load_config({**_context(), "env": env}).ingest.max_file_megabytes
               for env in ("sandbox", "prod")}  # fmt: skip
    print(f"ingest scan of {args.rows} generated orders, one core of this machine; at "
          f"{args.memory} MB a function gets {share:.2f} vCPU")  # fmt: skip
    for name, (data, spec) in _files(args.rows).items():
        rate, rows = _rate(data, spec)
        at_largest = ", ".join(
            f"{env} {mb} MB in {mb / (rate * share):.0f} s"
            + (" (over the 15 min timeout)" if mb / (rate * share) > TIMEOUT_S else "")
            for env, mb in largest.items()
        )
        print(f"  {name:<11} {len(data) / 1e6:7.1f} MB landed, {rows} rows: {rate:5.1f} MB/s "
              f"of content; largest file: {at_largest}")  # fmt: skip


if __name__ == "__main__":
    main()
