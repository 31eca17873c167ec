#!/usr/bin/env python3
"""Synthesize the blueprint with 1, 10, 50 and 100 generated datasets, and check it scales.

The declarations are generated into a temporary folder from the two shipped ones
(tools/scale_declarations.py): odd numbers are shaped like ``orders`` (a batch source with
personal-data columns, a mart and ready queries; CSV, Parquet or JSON lines in turn), even
numbers like ``clickstream`` (a streaming source), each under its own name (``ds001_orders``,
``ds002_clickstream``, ...) in one of a few business domains. Each count is synthesized as
`cdk synth` runs app.py (tools/scale_synth.py): in a fresh process, with the context of
cdk.json plus ``datasets=<folder>`` and what the CLI adds, and with the cdk-nag packs
enforced. The cloud assembly is then read and one row printed per count.

Targets, checked after the table (the script exits non-zero when one is missed):

    (a) 100 datasets synthesize;
    (b) no stack above 80% of a CloudFormation limit: 400 of 500 resources, 160 of 200
        outputs, 160 of 200 parameters, and 80% of the 1 MB template body CloudFormation
        accepts from S3, taken as 1 MiB (1,048,576 bytes), measured on the template file as
        synthesized (the file that is uploaded);
    (c) synth time grows linearly: the seconds per added dataset of the last step (50 -> 100)
        at most 1.5x those of the step before (10 -> 50); a least-squares fit
        time = a + b * n and its R^2 are printed too;
    (d) no shared (non-dataset) stack grows in resources, outputs or parameters with the
        number of datasets (template bytes that grow, such as tag values, are reported with
        the count at which they would reach 80%).

    python3 tasks.py bench-scale      # or: python scripts/bench_scale.py --counts 1,10,50,100
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.scale_synth import Run, measure  # noqa: E402

MIB = 1024 * 1024
LIMITS = {"resources": 500, "outputs": 200, "parameters": 200, "bytes": MIB}
SHARE = 0.8
LINEARITY_RATIO = 1.5
TARGET_COUNT = 100


def print_row(run: Run) -> None:
    if run.error:
        print(f"{run.count:>8}  FAILED after {run.seconds:.1f} s:\n{run.error}")
        return
    res, size = run.largest("resources"), run.largest("bytes")
    print(
        f"{run.count:>8} {len(run.stacks):>6} {run.seconds:>8.1f} {run.seconds / run.count:>8.2f}"
        f"  {size_label(res.name, res.resources):<50} {size_label(size.name, size.bytes):<54}"
        f" {run.largest('outputs').outputs:>4} {run.largest('parameters').parameters:>5}"
        f" {run.peak_rss_mb:>7.0f}"
    )


def size_label(name: str, value: int) -> str:
    return f"{name} ({value:,})"


def print_table(runs: list[Run]) -> None:
    print(
        f"{'datasets':>8} {'stacks':>6} {'synth s':>8} {'s/dset':>8}  "
        f"{'most resources: stack (count)':<50} {'largest template: stack (bytes)':<54}"
        f" {'outs':>4} {'params':>5} {'RSS MB':>7}"
    )
    for run in runs:
        print_row(run)
    print(
        "(outs, params: the most of any stack; RSS MB: peak resident memory of the largest "
        "process of the synth, node)"
    )


def check_synthesizes(runs: list[Run]) -> bool:
    largest = max(runs, key=lambda r: r.count)
    dataset_stacks = sum(not s.shared for s in largest.stacks)
    ok = not largest.error and largest.count >= TARGET_COUNT and dataset_stacks == largest.count
    measured = "" if largest.count >= TARGET_COUNT else f" (largest count run: {largest.count})"
    print(
        f"(a) {TARGET_COUNT} datasets synthesize{measured}, {dataset_stacks} dataset stacks: "
        f"{'met' if ok else 'MISSED'}"
    )
    return ok


def check_limits(runs: list[Run]) -> bool:
    stacks = [s for r in runs for s in r.stacks]
    if not stacks:
        print("(b) CloudFormation limits: MISSED (nothing synthesized)")
        return False
    ok = True
    for attribute, limit in LIMITS.items():
        worst = max(stacks, key=lambda s: getattr(s, attribute))
        value, ceiling = getattr(worst, attribute), int(limit * SHARE)
        met = value <= ceiling
        ok &= met
        unit = " (1 MiB = 1,048,576 bytes)" if attribute == "bytes" else ""
        print(
            f"(b) {attribute}: at most {value:,} ({worst.name}) of limit {limit:,}{unit}, "
            f"80% = {ceiling:,}: {'met' if met else 'MISSED'}"
        )
    return ok


def linear_fit(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """a, b and R^2 of the least-squares line time = a + b * n."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    b = sxy / sxx
    a = mean_y - b * mean_x
    total = sum((y - mean_y) ** 2 for _, y in points)
    residual = sum((y - a - b * x) ** 2 for x, y in points)
    return a, b, 1 - residual / total if total else 1.0


def check_linear(runs: list[Run]) -> bool:
    points = [(r.count, r.seconds) for r in runs if not r.error]
    if len(points) < 3:
        print("(c) linear growth: MISSED (needs three counts that synthesize)")
        return False
    steps = [(x1, x2, (y2 - y1) / (x2 - x1)) for (x1, y1), (x2, y2) in pairwise(points)]
    for x1, x2, marginal in steps:
        print(f"    step {x1:>3} -> {x2:<3} {marginal:6.3f} s per added dataset")
    (a1, a2, before), (b1, b2, last) = steps[-2:]
    ratio = last / before if before > 0 else float("inf")
    a, b, r2 = linear_fit(points)
    print(f"    fit: time = {a:.2f} s + {b:.3f} s * n   (R^2 = {r2:.4f})")
    met = ratio <= LINEARITY_RATIO
    print(
        f"(c) linear growth: s per added dataset {b1}->{b2} / {a1}->{a2} = {ratio:.2f} "
        f"(target <= {LINEARITY_RATIO}): {'met' if met else 'MISSED'}"
    )
    return met


def check_shared(runs: list[Run]) -> bool:
    done = [r for r in runs if not r.error]
    if len(done) < 2:
        print("(d) shared stacks: MISSED (needs two counts that synthesize)")
        return False
    first, last = done[0], done[-1]
    before = {s.name: s for s in first.stacks if s.shared}
    ok = True
    for stack in (s for s in last.stacks if s.shared):
        old = before.get(stack.name)
        if old is None:
            ok = False
            print(f"    NEW: {stack.name} appears at {last.count} datasets")
            continue
        for attribute in ("resources", "outputs", "parameters"):
            if getattr(stack, attribute) != getattr(old, attribute):
                ok = False
                print(
                    f"    GROWS: {stack.name} {attribute} {getattr(old, attribute)} -> "
                    f"{getattr(stack, attribute)} ({first.count} -> {last.count} datasets)"
                )
        if stack.bytes != old.bytes:
            per = (stack.bytes - old.bytes) / (last.count - first.count)
            reach = (SHARE * MIB - stack.bytes) / per + last.count if per > 0 else float("inf")
            print(
                f"    template bytes: {stack.name} {old.bytes:,} -> {stack.bytes:,} "
                f"({per:+.1f} bytes per dataset; 80% of 1 MiB at ~{reach:,.0f} datasets)"
            )
    verdict = "met" if ok else "MISSED"
    print(f"(d) no shared stack grows in resources, outputs or parameters: {verdict}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--counts",
        default="1,10,50,100",
        type=lambda v: sorted({int(c) for c in v.split(",")}),
        help="dataset counts to synthesize, comma-separated (default 1,10,50,100)",
    )
    args = parser.parse_args()

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            runs.append(measure(count, Path(tmp)))
            print(f"  synthesized {count} datasets in {runs[-1].seconds:.1f} s", file=sys.stderr)
    print(f"scale benchmark: counts {', '.join(map(str, args.counts))}; {os.cpu_count()} CPUs")
    print_table(runs)
    largest = max((r for r in runs if not r.error), key=lambda r: r.count, default=None)
    if largest:
        top = largest.largest("resources")
        print(f"largest stack at {largest.count} datasets: {top.name}, {top.resources} resources")
    results = [check_synthesizes(runs), check_limits(runs), check_linear(runs)]
    results.append(check_shared(runs))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
