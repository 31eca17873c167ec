"""What the local run reads from the synthesized app, the one place that knows template shapes.

The app is built and synthesized exactly as ``cdk synth`` does (only the compliance packs,
which decide nothing here, are left out to save time). Every name the local run uses then
comes from the cloud assembly: template references (``Ref``, ``Fn::Join``, the weak
cross-stack ``Fn::GetStackOutput``) are resolved as CloudFormation would, with local bucket
names standing in for the generated ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glue_jobs.forget_subject import ARGUMENTS as ERASURE_ARGUMENTS
from model.datasets import Dataset

REGION = "eu-west-1"


@dataclass(frozen=True)
class NamedQuery:
    """One saved Athena query, as the dataset stack saves it in its readers' workgroups."""

    dataset: str
    name: str
    description: str
    sql: str


@dataclass(frozen=True)
class DatasetPlan:
    """What the pipeline of one dataset runs, read from its stack."""

    dataset: Dataset
    spec: dict[str, Any]  # the curation job's --dataset_spec
    ruleset: str  # its --dq_ruleset (DQDL), "" when none is declared
    marts: list[dict[str, Any]]  # the marts job's --marts_spec, [] without marts
    paths: dict[str, str]  # the curation job's --raw_path and --quarantine_path, as s3:// URIs
    curated_table: str  # the jobs' --curated_table: <curated database>.<dataset>
    analytics_database: str  # the marts job's --analytics_database, "" without marts
    queries: list[NamedQuery] = field(default_factory=list)
    # The erasure job's own arguments (``--`` left out, buckets resolved); empty for a
    # dataset that declares no subject.
    erasure: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IcebergTable:
    """One ``AWS::Glue::Table`` of a dataset stack: a curated table or a mart."""

    database: str
    name: str
    iceberg_input: dict[str, Any]  # OpenTableFormatInput.IcebergInput.IcebergTableInput


@dataclass(frozen=True)
class Assembly:
    """The synthesized app, with every reference resolved for a local run."""

    env: str
    outdir: Path
    buckets: dict[str, str]  # zone -> local bucket name
    tables: list[IcebergTable]  # every dataset's curated table and marts
    ingest_code: Path  # the ingest function's bundle, datasets.json included
    ingest_handler: str  # its Handler setting: module.function
    ingest_environment: dict[str, str]
    salt_secret_name: str
    plans: list[DatasetPlan]


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send file descriptor 2 to a file for a while: what a child process started meanwhile
    (node for jsii, the JVM for Spark) writes there goes to the file for good."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as file:
        os.dup2(file.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _Resolver:
    """Resolves template values as CloudFormation would, with the local bucket names."""

    def __init__(self, templates: Mapping[str, Any], buckets: Mapping[tuple[str, str], str]):
        self.templates = templates
        self.buckets = buckets

    def __call__(self, value: Any, stack: str) -> Any:
        if isinstance(value, list):
            return [self(item, stack) for item in value]
        if not isinstance(value, dict):
            return value
        if "Fn::GetStackOutput" in value:
            output = value["Fn::GetStackOutput"]
            producer = self(output["StackName"], stack)
            return self(self.templates[producer]["Outputs"][output["OutputName"]]["Value"],
                        producer)  # fmt: skip
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(str(self(part, stack)) for part in parts)
        if "Ref" in value:
            return self._ref(value["Ref"], stack)
        return {key: self(item, stack) for key, item in value.items()}

    def _ref(self, logical_id: str, stack: str) -> Any:
        if logical_id == "AWS::Region":
            return REGION
        resource = self.templates[stack]["Resources"][logical_id]
        if resource["Type"] == "AWS::S3::Bucket":
            return self.buckets[(stack, logical_id)]
        if resource["Type"] == "AWS::Glue::Database":
            return self(resource["Properties"]["DatabaseInput"]["Name"], stack)
        raise ValueError(f"{stack}: no local stand-in for a Ref to {resource['Type']}")


def of_type(template: Mapping[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in template.get("Resources", {}).values() if r["Type"] == type_]


def synthesize(env: str, datasets: Path, outdir: Path) -> Assembly:
    """Synthesize the app for ``env`` with the declarations in ``datasets`` into ``outdir``."""
    # The jsii runtime (node) prints the synth's warnings; it starts on the first import of
    # aws_cdk and keeps the stderr it was started with: a file, beside the cloud assembly.
    outdir.mkdir(parents=True, exist_ok=True)
    with stderr_to(outdir.parent / "synth.log"):
        from blueprint.factory import build_app, cdk_json_context

        context = {**cdk_json_context(), "env": env, "datasets": str(datasets)}
        blueprint = build_app(context, outdir=str(outdir), enforce_compliance=False)
        blueprint.app.synth()
    templates = {
        stack.stack_name: json.loads((outdir / stack.template_file).read_text())
        for stack in blueprint.stacks
    }
    storage = blueprint.storage
    # The zone buckets and the audit store, e.g. datalake-sandbox-landing (deployed buckets
    # have generated names).
    stored = {**storage.zone_buckets, "audit": storage.audit_logs.bucket}
    zone_buckets = {name: blueprint.config.resource_name(name) for name in stored}
    resolve = _Resolver(
        templates,
        {
            (storage.stack_name, storage.get_logical_id(bucket.node.default_child)): name  # type: ignore[arg-type]
            for bucket, name in zip(stored.values(), zone_buckets.values(), strict=True)
        },
    )

    (function,) = of_type(templates[blueprint.ingest.stack_name], "AWS::Lambda::Function")
    bundle = outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    environment = resolve(
        function["Properties"]["Environment"]["Variables"], blueprint.ingest.stack_name
    )

    tables: list[IcebergTable] = []
    plans = []
    for dataset in blueprint.datasets:
        stack = blueprint.dataset_stacks[dataset.name].stack_name
        tables += [
            IcebergTable(
                database=resolve(r["Properties"]["DatabaseName"], stack),
                name=resolve(r["Properties"]["Name"], stack),
                iceberg_input=resolve(
                    r["Properties"]["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"],
                    stack,
                ),
            )
            for r in of_type(templates[stack], "AWS::Glue::Table")
        ]
        plans.append(_plan(dataset, templates[stack], stack, resolve))
    return Assembly(
        env=env,
        outdir=outdir,
        buckets=zone_buckets,
        tables=tables,
        ingest_code=bundle,
        ingest_handler=function["Properties"]["Handler"],
        ingest_environment={k: str(v) for k, v in environment.items()},
        salt_secret_name=blueprint.config.resource_name("pii-salt"),
        plans=plans,
    )


def _plan(
    dataset: Dataset, template: Mapping[str, Any], stack: str, resolve: _Resolver
) -> DatasetPlan:
    """What one dataset's stack runs: its jobs' arguments and its saved queries."""
    arguments: dict[str, Any] = {}
    erasure: dict[str, Any] = {}
    for job in of_type(template, "AWS::Glue::Job"):
        defaults = job["Properties"]["DefaultArguments"]
        if "--subject_column" in defaults:  # the erasure job: its folders are its own
            erasure = {
                name: resolve(defaults[f"--{name}"], stack)
                for name in ERASURE_ARGUMENTS
                if name != "salt_secret_arn"
            }  # the local run has a salt of its own
        else:
            arguments.update(defaults)
    queries = {
        q["Properties"]["Name"]: q["Properties"]
        for q in of_type(template, "AWS::Athena::NamedQuery")
    }  # one per reader's workgroup, the same query: keep one
    return DatasetPlan(
        dataset=dataset,
        spec=json.loads(arguments["--dataset_spec"]),
        ruleset=arguments.get("--dq_ruleset", ""),
        marts=json.loads(arguments.get("--marts_spec", "[]")),
        paths={
            key.removeprefix("--"): resolve(value, stack)
            for key, value in arguments.items()
            if key.endswith("_path")
        },
        curated_table=arguments["--curated_table"],
        analytics_database=arguments.get("--analytics_database", ""),
        erasure=erasure,
        queries=[
            NamedQuery(dataset.name, name, q["Description"], q["QueryString"])
            for name, q in sorted(queries.items())
        ],
    )
