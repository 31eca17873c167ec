"""Each dataset's raw -> curated Glue job and quality ruleset, as synthesized."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cdk_constructs.processing.glue_job import GLUE_JOBS, GLUE_VERSION
from glue_jobs import curated_to_analytics, forget_subject, raw_to_curated
from model.datasets import Dataset
from tests.conftest import built, only, resources, template

# Arguments that are Glue's own (read by Glue, not by the script).
GLUE_OWN = ("--enable-", "--job-", "--extra-", "--datalake-formats")


def dataset_params() -> list[Any]:
    return [pytest.param(d, id=d.name) for d in built("sandbox").datasets]


def job(env: str, name: str, kind: str = "Curation") -> dict[str, Any]:
    jobs = resources(template(env, f"Dataset-{name}"), "AWS::Glue::Job")
    (found,) = [j["Properties"] for lid, j in jobs.items() if lid.startswith(f"{kind}Job")]
    return dict(found)


@pytest.mark.parametrize("dataset", dataset_params())
def test_the_job_sets_exactly_the_arguments_the_script_reads(dataset: Dataset) -> None:
    """The script's argument list and the stack's arguments cannot drift apart."""
    arguments = job("sandbox", dataset.name)["DefaultArguments"]
    own = {key for key in arguments if not key.startswith(GLUE_OWN)}
    assert own == {f"--{name}" for name in raw_to_curated.ARGUMENTS}
    assert arguments["--curated_table"] == f"datalake_sandbox_curated.{dataset.name}"
    assert json.loads(arguments["--dataset_spec"]) == dataset.processing_spec()
    ruleset = only(template("sandbox", f"Dataset-{dataset.name}"), "AWS::Glue::DataQualityRuleset")
    assert arguments["--dq_ruleset"] == ruleset["Ruleset"]  # the job checks the same rules


@pytest.mark.parametrize("dataset", dataset_params())
def test_the_job_reads_what_the_declaration_says(dataset: Dataset) -> None:
    spec = json.loads(job("sandbox", dataset.name)["DefaultArguments"]["--dataset_spec"])
    options = raw_to_curated.read_options(spec, "s3://raw/x/")
    expected = {"csv": "csv", "jsonl": "json", "parquet": "parquet"}[dataset.source.format]
    assert options["format"] == expected
    assert options["transformation_ctx"] == "raw"  # the job bookmark needs it
    if dataset.source.format == "csv":
        assert options["format_options"]["separator"] == dataset.source.delimiter


def test_job_settings_follow_the_environment(env: str) -> None:
    processing = built(env).config.processing
    for name in built(env).dataset_stacks:
        props = job(env, name)
        assert props["Name"] == f"datalake-{env}-{name}-curate"
        assert props["GlueVersion"] == GLUE_VERSION == "5.1"  # Spark 3.5.6, Iceberg 1.10.0
        assert props["WorkerType"] == processing.worker_type
        assert props["NumberOfWorkers"] == processing.max_workers
        assert props["ExecutionClass"] == ("FLEX" if processing.flex else "STANDARD")
        assert props["Timeout"] == processing.timeout_minutes
        assert props["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
        assert props["SecurityConfiguration"] == built(env).catalog.security_configuration.name
        arguments = props["DefaultArguments"]
        assert arguments["--datalake-formats"] == "iceberg"  # Glue's Iceberg libraries
        assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
        assert arguments["--enable-metrics"] == "true"
        assert arguments["--enable-continuous-cloudwatch-log"] == "true"
        assert arguments["--enable-auto-scaling"] == "true"
        # A zip of the module: a single-file asset would be named after its hash.
        assert arguments["--extra-py-files"]["Fn::Sub"].endswith(".zip")
        assert props["Command"]["ScriptLocation"]["Fn::Sub"].endswith(".py")
    assert built("sandbox").config.processing.flex is True
    assert built("prod").config.processing.flex is False


def test_no_job_is_retried_by_glue(env: str) -> None:
    """The pipeline watches the run it started: a Glue retry would be a run it does not see
    (and a curation run that failed after writing must not write again). Whoever starts an
    erasure reads its record before running it again."""
    for name, stack in built(env).dataset_stacks.items():
        kinds = ["Curation", "Analytics"] if stack.analytics else ["Curation"]
        kinds += ["Erasure"] if stack.erasure else []
        assert [job(env, name, kind)["MaxRetries"] for kind in kinds] == [0] * len(kinds)


def test_a_quality_failure_carries_the_mark_the_pipeline_looks_for() -> None:
    from cdk_constructs.orchestration.pipeline_states import DATA_QUALITY_FAILED

    message = raw_to_curated.quality_failure("orders", ['IsUnique "order_id"', "Rule_2"])
    assert DATA_QUALITY_FAILED in message
    assert raw_to_curated.DATA_QUALITY_FAILED == DATA_QUALITY_FAILED
    assert message.endswith('orders: IsUnique "order_id", Rule_2')


@pytest.mark.parametrize("dataset", dataset_params())
def test_the_ruleset_holds_the_declared_rules_for_the_curated_table(dataset: Dataset) -> None:
    ruleset = only(template("sandbox", f"Dataset-{dataset.name}"), "AWS::Glue::DataQualityRuleset")
    for rule in dataset.quality_rules:
        assert rule in ruleset["Ruleset"]
    assert ruleset["Ruleset"].startswith("Rules = [")
    assert ruleset["TargetTable"] == {
        "DatabaseName": "datalake_sandbox_curated",
        "TableName": dataset.name,
    }


@pytest.mark.parametrize("dataset", dataset_params())
def test_the_job_role_reaches_only_its_dataset(dataset: Dataset) -> None:
    tmpl = template("sandbox", f"Dataset-{dataset.name}")
    policies = [p["Properties"] for p in resources(tmpl, "AWS::IAM::ManagedPolicy").values()
                if "CurationRole" in json.dumps(p["Properties"]["Roles"])]  # fmt: skip
    (policy,) = policies
    s3_prefixes = set()
    for statement in policy["PolicyDocument"]["Statement"]:
        targets = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        for target in targets:
            if isinstance(target, dict) and "Fn::Join" in target:
                parts = target["Fn::Join"][1]
                output = json.dumps(parts[0])
                if "BucketArn" in output:
                    zone = "raw" if "RawBucketArn" in output else "curated"
                    s3_prefixes.add((zone, parts[-1]))
    assert s3_prefixes == {
        ("raw", f"/{dataset.name}/*"),
        ("raw", f"/_quarantine/{dataset.name}/processing/*"),
        ("curated", f"/{dataset.name}/*"),
    }
    deletes = [s for s in policy["PolicyDocument"]["Statement"]
               if any(a.startswith("s3:DeleteObject") for a in _list(s["Action"]))]  # fmt: skip
    for statement in deletes:  # deleting only in its own curated folder
        assert "CuratedBucketArn" in json.dumps(statement["Resource"])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_salt_is_generated_at_deploy_time_and_kept(env: str) -> None:
    storage = template(env, "Storage")
    (secret,) = resources(storage, "AWS::SecretsManager::Secret").values()
    generator = secret["Properties"]["GenerateSecretString"]
    assert generator["PasswordLength"] >= 32
    assert "SecretString" not in secret["Properties"]  # never in the template
    # With the data in clear: whoever reads the salt can reverse hashes of low-entropy values.
    assert secret["Properties"]["KmsKeyId"] == {
        "Fn::GetAtt": [next(k for k in template(env, "Storage").to_json()["Resources"]
                            if k.startswith("DataKey")), "Arn"]
    }  # fmt: skip
    expected = "Delete" if built(env).config.remove_data_on_destroy else "Retain"
    assert secret["DeletionPolicy"] == expected


def test_the_analytics_job_sets_exactly_the_arguments_its_script_reads() -> None:
    for name, stack in built("sandbox").dataset_stacks.items():
        jobs = resources(template("sandbox", f"Dataset-{name}"), "AWS::Glue::Job")
        analytics = [j for lid, j in jobs.items() if lid.startswith("AnalyticsJob")]
        if not stack.dataset.marts:
            assert analytics == []
            continue
        arguments = job("sandbox", name, "Analytics")["DefaultArguments"]
        own = {k for k in arguments if not k.startswith(GLUE_OWN)}
        assert own == {f"--{a}" for a in curated_to_analytics.ARGUMENTS}
        assert json.loads(arguments["--marts_spec"]) == [m.spec() for m in stack.dataset.marts]
        assert "--job-bookmark-option" not in arguments  # rebuilds from all of curated


def test_the_erasure_job_sets_exactly_the_arguments_its_script_reads(env: str) -> None:
    """One erasure job per dataset with a subject, named for ``tasks.py forget``; its
    arguments are ``forget_subject.ARGUMENTS`` and no run argument (the request ID is the
    run's own, and the person's value is never an argument)."""
    config = built(env).config
    for name, stack in built(env).dataset_stacks.items():
        assert stack.dataset.subject is not None  # both samples declare one
        props = job(env, name, "Erasure")
        assert props["Name"] == config.resource_name(f"{name}-forget")
        assert props["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
        assert props["ExecutionClass"] == ("FLEX" if config.processing.flex else "STANDARD")
        assert props["Command"]["ScriptLocation"]["Fn::Sub"].endswith(".py")
        arguments = props["DefaultArguments"]
        own = {k for k in arguments if not k.startswith(GLUE_OWN)}
        assert own == {f"--{a}" for a in forget_subject.ARGUMENTS}
        assert not own & {f"--{a}" for a in forget_subject.RUN_ARGUMENTS}
        assert "--job-bookmark-option" not in arguments  # every run searches everything
        assert arguments["--subject_column"] == stack.dataset.subject
        assert json.loads(arguments["--dataset_spec"]) == stack.dataset.processing_spec()
        assert json.loads(arguments["--marts_spec"]) == [m.spec() for m in stack.dataset.marts]
        assert arguments["--curated_table"] == f"{config.database_name('curated')}.{name}"
        assert arguments["--analytics_database"] == config.database_name("analytics")
        if stack.analytics:  # the marts as the marts job gets them, byte for byte
            marts_job = job(env, name, "Analytics")["DefaultArguments"]
            assert arguments["--marts_spec"] == marts_job["--marts_spec"]
        paths = {k: json.dumps(v) for k, v in arguments.items() if k.endswith("_path")}
        assert '"/_erasure/requests/"' in paths["--request_path"]
        assert "RawBucketName" in paths["--request_path"]
        assert '"/erasure/"' in paths["--records_path"]
        assert "AuditLogsBucketName" in paths["--records_path"]
        assert f'"/_quarantine/{name}/"' in paths["--quarantine_path"]
        assert "LandingBucketName" in paths["--landing_path"]


def test_every_path_argument_is_a_folder(env: str) -> None:
    """The scripts append names to their --*_path arguments: each must end in a slash, or a
    mart would be written to s3://<analytics bucket><mart>/, a bucket that does not exist."""
    for name in built(env).dataset_stacks:
        for job_resource in resources(template(env, f"Dataset-{name}"), "AWS::Glue::Job").values():
            arguments = job_resource["Properties"]["DefaultArguments"]
            for key, value in arguments.items():
                if key.endswith("_path"):
                    last = value["Fn::Join"][1][-1] if isinstance(value, dict) else value
                    assert isinstance(last, str), (name, key, value)
                    assert last.endswith("/"), (name, key, value)


def test_each_mart_is_an_iceberg_table_tagged_in_the_analytics_database() -> None:
    for name, stack in built("sandbox").dataset_stacks.items():
        tmpl = template("sandbox", f"Dataset-{name}")
        tables = {
            t["Properties"]["Name"]: t["Properties"]
            for lid, t in resources(tmpl, "AWS::Glue::Table").items()
            if lid.startswith("Mart")
        }
        assert set(tables) == {m.name for m in stack.dataset.marts}
        for mart in stack.dataset.marts:
            assert "TableInput" not in tables[mart.name]  # the shape that survives updates
            iceberg = tables[mart.name]["OpenTableFormatInput"]["IcebergInput"]
            assert iceberg["Version"] == "2"
            table = iceberg["IcebergTableInput"]
            columns = [f["Name"] for f in table["Schema"]["Fields"]]
            assert sorted(columns) == sorted(c.name for c in mart.columns)
            ids = {f["Id"]: f["Name"] for f in table["Schema"]["Fields"]}
            partitions = [
                ids[p["SourceId"]] for p in table.get("PartitionSpec", {"Fields": []})["Fields"]
            ]
            assert partitions == list(mart.partition_by)
            found = resources(tmpl, "AWS::LakeFormation::TagAssociation").items()
            associations = [a["Properties"] for lid, a in found if lid.startswith("Mart")]
            tags = [{t["TagKey"]: t["TagValues"] for t in a["LFTags"]} for a in associations]
            assert {"dataset": [name], "domain": [stack.dataset.domain]} in tags


@pytest.mark.parametrize(
    ("kind", "script"), [("Curation", "raw_to_curated"), ("Analytics", "curated_to_analytics")]
)
def test_the_script_imports_only_what_its_zip_holds(kind: str, script: str, tmp_path: Path) -> None:
    """Glue runs the script asset with the zip of ``--extra-py-files`` on its path and nothing
    else of this project. Here too: the staged assets, zipped and unzipped into an empty
    folder, and the script loaded in a fresh process whose only ``PYTHONPATH`` entry is that
    folder (pyspark and boto3 are Glue's own). Without the zip, the same load fails."""
    outdir = Path(built("sandbox").app.outdir)
    arguments = job("sandbox", "orders", kind)

    def staged(location: dict[str, str]) -> Path:
        return outdir / f"asset.{location['Fn::Sub'].rsplit('/', 1)[-1]}"

    archive = shutil.make_archive(
        str(tmp_path / "modules"),
        "zip",
        staged(arguments["DefaultArguments"]["--extra-py-files"]).with_suffix(""),
    )
    with zipfile.ZipFile(archive) as zipped:
        files = sorted(n for n in zipped.namelist() if not n.endswith("/"))
        zipped.extractall(tmp_path / "extra-py-files")
    # The package's *.py files, and nothing else (no __pycache__, no README).
    assert files == sorted(f"glue_jobs/{p.name}" for p in GLUE_JOBS.glob("*.py"))
    assert f"glue_jobs/{script}.py" in files

    run_dir = tmp_path / "script"
    run_dir.mkdir()
    shutil.copyfile(staged(arguments["Command"]["ScriptLocation"]), run_dir / f"{script}.py")
    load = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='glue')"

    def loaded(pythonpath: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", load, f"{script}.py"]
        environment = {**os.environ, "PYTHONPATH": pythonpath}
        return subprocess.run(
            command, cwd=run_dir, env=environment, capture_output=True, text=True, check=False
        )

    result = loaded(str(tmp_path / "extra-py-files"))
    assert result.returncode == 0, result.stderr
    without = loaded("")
    assert "No module named 'glue_jobs'" in without.stderr


def test_row_counts_and_reasons_are_published_per_dataset() -> None:
    class CloudWatch:
        def put_metric_data(self, **call: Any) -> None:
            self.call = call

    cloudwatch = CloudWatch()
    figures = {"rows_in": 10, "rows_written": 7, "rows_quarantined": 3,
               "quarantined_by_reason": {"uncastable": 2, "exact_duplicate": 1}}  # fmt: skip
    raw_to_curated.publish(cloudwatch, "orders", figures)
    data = {(m["MetricName"], tuple(d["Value"] for d in m["Dimensions"])): m["Value"]
            for m in cloudwatch.call["MetricData"]}  # fmt: skip
    assert cloudwatch.call["Namespace"] == "DataLake/Processing"
    assert data[("RowsIn", ("orders",))] == 10
    assert data[("RowsQuarantinedByReason", ("orders", "exact_duplicate"))] == 1
