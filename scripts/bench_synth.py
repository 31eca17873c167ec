#!/usr/bin/env python3
"""Time a full synth of the blueprint against an empty CDK app, in the same environment.

Both are run as `cdk synth` runs them (the app's Python entry point in a fresh process, with
the cdk-nag packs enforced for the blueprint), alternately, several times; the medians and
their ratio are printed. Target: the full synth within 2x the empty app, that is, the
blueprint's own constructs and checks cost less than starting CDK at all.

    python3 tasks.py bench            # or: python scripts/bench_synth.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0
EMPTY_APP = """
import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
"""


def timed_synth(script: Path, outdir: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    env["CDK_OUTDIR"] = str(outdir)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each app (default 3)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty_app.py"
        empty.write_text(EMPTY_APP)
        times: dict[str, list[float]] = {"empty app": [], "blueprint": []}
        timed_synth(empty, Path(tmp) / "warm-up")  # first jsii start fills OS caches
        for run in range(args.runs):
            times["empty app"].append(timed_synth(empty, Path(tmp) / f"empty-{run}"))
            times["blueprint"].append(timed_synth(ROOT / "app.py", Path(tmp) / f"full-{run}"))

    print(f"synth benchmark: {args.runs} runs each, {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}")  # fmt: skip
    for name, values in times.items():
        spread = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:<10} median {statistics.median(values):6.2f} s   (runs: {spread})")
    ratio = statistics.median(times["blueprint"]) / statistics.median(times["empty app"])
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"  ratio      {ratio:6.2f}x   (target <= {TARGET_RATIO:.1f}x: {verdict})")


if __name__ == "__main__":
    main()
