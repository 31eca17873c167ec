"""Synthesizing the blueprint over generated declarations as `cdk synth` runs app.py, and
reading the size of each stack in the cloud assembly: what scripts/bench_scale.py measures.

The app runs in a fresh process, with the context of cdk.json plus ``datasets=<folder>`` and
what the CLI adds, and with the cdk-nag packs enforced; this module does not import the app,
which would start jsii in the measuring process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.scale_declarations import generate_declarations

ROOT = Path(__file__).resolve().parent.parent
# What the CDK CLI adds to the context it hands app.py (CDK_CONTEXT_JSON), except
# "@aws-cdk/core:failSynthOnValidationErrors": false, with which the CLI, not the app, fails
# on findings; left at its default the app fails itself, which is what a benchmark can see.
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
}


@dataclass(frozen=True)
class StackSize:
    """One stack of the assembly: its name, whether it is shared (not a dataset's), and its
    counts and template size against CloudFormation's limits."""

    name: str
    shared: bool
    resources: int
    outputs: int
    parameters: int
    bytes: int


@dataclass
class Run:
    """One synth of ``count`` generated datasets: time, peak memory, error, stack sizes."""

    count: int
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    error: str = ""
    stacks: list[StackSize] = field(default_factory=list)

    def largest(self, attribute: str) -> StackSize:
        """The stack with the most of ``attribute`` (resources, outputs, parameters, bytes)."""
        return max(self.stacks, key=lambda s: getattr(s, attribute))


def cdk_json_context() -> dict[str, object]:
    """cdk.json's context, read as the CLI reads it (importing the app would start jsii)."""
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def synth(folder: Path, outdir: Path) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB, of the process or its largest reaped child, node) and error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    env["CDK_OUTDIR"] = str(outdir)
    env["CDK_CONTEXT_JSON"] = json.dumps(
        {**cdk_json_context(), "datasets": str(folder), **CLI_CONTEXT}
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = outdir.with_suffix(".log")
    with log.open("wb") as output:
        start = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - this Python, on this repository's app.py
            [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=output, stderr=output
        )
        # wait4 gives this run's own resource usage, including the node process it reaped.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = "" if process.returncode == 0 else log.read_text()[-2000:]
    return seconds, usage.ru_maxrss / 1024, error


def read_assembly(outdir: Path) -> list[StackSize]:
    """The size of every stack in the cloud assembly at ``outdir``."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = []
    for artifact in manifest["artifacts"].values():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        path = outdir / artifact["properties"]["templateFile"]
        template = json.loads(path.read_text())
        display = artifact.get("displayName", "")
        stacks.append(
            StackSize(
                name=artifact["properties"].get("stackName", display),
                shared=not display.startswith("Dataset-"),
                resources=len(template.get("Resources", {})),
                outputs=len(template.get("Outputs", {})),
                parameters=len(template.get("Parameters", {})),
                bytes=path.stat().st_size,
            )
        )
    return stacks


def measure(count: int, work: Path) -> Run:
    """Generate ``count`` declarations under ``work``, synthesize them, and read the result."""
    folder = work / f"datasets-{count}"
    generate_declarations(folder, count)
    run = Run(count)
    outdir = work / f"cdk.out-{count}"
    run.seconds, run.peak_rss_mb, run.error = synth(folder, outdir)
    if not run.error:
        run.stacks = read_assembly(outdir)
    return run
