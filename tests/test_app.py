"""app.py as `cdk synth` runs it: every stack synthesized, every pack enforced and passing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from blueprint.factory import ROOT
from tests.conftest import ci_context


def synth(tmp_path: Path, env: str) -> subprocess.CompletedProcess[str]:
    """app.py run as `cdk synth -c env=ENV -c overlay=.ci/production-settings.json` runs it."""
    context = ci_context(env)
    environ = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_synth_writes_every_stack_with_no_finding_from_any_pack(tmp_path: Path) -> None:
    result = synth(tmp_path, "sandbox")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = {
        name: artifact["properties"]["stackName"]
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert stacks == {
        "Storage": "datalake-sandbox-storage",
        "Audit": "datalake-sandbox-audit",
        "Governance": "datalake-sandbox-governance",
        "Catalog": "datalake-sandbox-catalog",
        "Ingest": "datalake-sandbox-ingest",
        "Alerts": "datalake-sandbox-alerts",
        "Monitoring": "datalake-sandbox-monitoring",
        "Delivery": "datalake-sandbox-delivery",
        "Dataset-clickstream": "datalake-sandbox-dataset-clickstream",
        "Dataset-orders": "datalake-sandbox-dataset-orders",
    }
    for name in stacks:
        assert (tmp_path / f"{name}.template.json").is_file()

    # The report names only plugins that found something: here, none of the five packs
    # (test_compliance proves that a finding would fail this same synth).
    report = json.loads((tmp_path / "validation-report.json").read_text())
    conclusions = {r["pluginName"]: r["conclusion"] for r in report["pluginReports"]}
    assert conclusions == {"Construct Annotations": "success"}  # the removal warnings
    # The sandbox may delete its data with the stack, and synth says so, once; nothing in
    # the app uses a deprecated API.
    assert result.stderr.count("removeDataOnDestroy is true") == 1
    # The sandbox names no alert destination, principals or admin: said once, not refused.
    assert result.stderr.count("(production: false) leaves unset what a production") == 1
    assert "deprecated" not in result.stderr


def test_prod_keeps_its_data_and_says_nothing_about_removal(tmp_path: Path) -> None:
    result = synth(tmp_path, "prod")
    assert result.returncode == 0, result.stderr
    assert "removeDataOnDestroy" not in result.stderr
    assert "production" not in result.stderr  # CI's overlay names all it requires
    template = json.loads((tmp_path / "Storage.template.json").read_text())
    policies = {
        r.get("DeletionPolicy")
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key")
    }
    assert policies == {"Retain"}
