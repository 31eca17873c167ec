"""Run the whole data path on this machine, with no AWS account: ``python -m local_lake``.

The app is synthesized; each dataset's sample file (or rows made from its declaration) lands
in moto's S3 and goes through the ingest function's bundle, the curation flow merges it into
the dataset's Iceberg table on a local SparkSession; then a second day's file does the same
(updates, a key moving partition, new keys); the marts flow runs, and DuckDB runs the saved
Athena queries over the Iceberg tables. Prints each stage's progress, each dataset's counts
per day with the snapshots, one time-travel query, and every query's result.

    python3 tasks.py demo             # or: make demo
    python -m local_lake --datasets PATH --keep
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from local_lake.run import ROOT, run
from model.config import ConfigError
from model.datasets import DatasetError


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_lake",
                                     description=__doc__.splitlines()[0])  # fmt: skip
    parser.add_argument("--env", default="sandbox", help="environment of cdk.json (sandbox)")
    parser.add_argument("--datasets", type=Path, default=ROOT / "datasets",
                        help="folder of dataset declarations (datasets/)")  # fmt: skip
    parser.add_argument("--samples", type=Path, default=None,
                        help="folder of sample files (<datasets>/samples)")  # fmt: skip
    parser.add_argument("--keep", action="store_true",
                        help="keep the working folder: assembly, logs, warehouse")  # fmt: skip
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="local-lake-"))
    try:
        run(env=args.env, datasets=args.datasets.resolve(), samples=args.samples,
            workdir=workdir)  # fmt: skip
    except (ConfigError, DatasetError) as error:  # the one line that says what to fix, as synth
        kind = "Configuration" if isinstance(error, ConfigError) else "Dataset"
        sys.exit(f"{kind} error: {error}")
    finally:
        if args.keep:
            print(f"\nKept {workdir}: cdk.out/, s3/ (what moto's buckets held), warehouse/ "
                  "(the Iceberg tables), the logs.")  # fmt: skip
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
