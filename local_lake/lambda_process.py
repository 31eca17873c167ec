"""The ingest function's synthesized bundle, run as Lambda runs it: in a process of its own.

Lambda unzips the function's code into its task root, starts Python there with the task root
on ``PYTHONPATH`` and the function's environment variables, imports the module the
``Handler`` setting names and hands the function each event. The local run does the same
with the bundle the synth staged: its own Python process, whose working directory and only
``PYTHONPATH`` entry are the bundle folder (``datasets.json`` included), with the variables of
the template and those that point AWS clients at the local moto server. Nothing of this
project is importable there, so a module the bundle does not ship fails to import here as it
would in Lambda: the run proves the bundle stands alone.

One process takes every event in turn, as a warm Lambda environment does. What the function
prints (its JSON log lines and embedded metrics) goes to a log file, as to CloudWatch Logs;
its return values come back as JSON lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# The runtime's loop, run with ``python -c`` so that nothing is added to the bundle:
# argv[1] is the handler setting (module.function), argv[2] the file for the results; the
# events arrive on standard input, one JSON document a line.
_RUNTIME = """
import importlib, json, sys, types, uuid
module, _, function = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), function)
with open(sys.argv[2], "w") as results:
    for line in sys.stdin:
        context = types.SimpleNamespace(aws_request_id=str(uuid.uuid4()))
        results.write(json.dumps(handler(json.loads(line), context)) + "\\n")
        results.flush()
"""
# What Lambda's environment has besides the function's own variables and credentials.
_LAMBDA_ENVIRONMENT = {"LANG": "C.UTF-8", "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1"}


def invoke(
    bundle: Path,
    handler: str,
    environment: Mapping[str, str],
    events: Sequence[Mapping[str, Any]],
    log: Path,
) -> list[dict[str, Any]]:
    """Hand ``events`` to the function in ``bundle`` (its ``Handler`` setting ``handler``)
    under ``environment``; its results, in order. Its output is appended to ``log``."""
    variables = {
        "PATH": os.environ.get("PATH", ""),
        **_LAMBDA_ENVIRONMENT,
        "LAMBDA_TASK_ROOT": str(bundle),
        "PYTHONPATH": str(bundle),
        **environment,
    }
    stdin = "".join(json.dumps(event) + "\n" for event in events)
    with tempfile.TemporaryDirectory(prefix="lambda-results-") as scratch:
        results = Path(scratch) / "results.jsonl"
        with log.open("a") as output:
            done = subprocess.run(  # noqa: S603 - this interpreter, the runtime loop above
                [sys.executable, "-c", _RUNTIME, handler, str(results)],
                cwd=bundle,
                env=variables,
                input=stdin,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
        answers = results.read_text().splitlines() if results.exists() else []
    if done.returncode:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(
            f"the function in {bundle.name} failed after {len(answers)} of {len(events)} "
            f"events (exit {done.returncode}); the end of {log}:\n{tail}"
        )
    return [dict(json.loads(line)) for line in answers]
