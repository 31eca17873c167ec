"""Shared fixtures: the app is built through the same factory as app.py, once per environment."""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

# jsii starts `node` from PATH: take the Node.js 24 that the virtual environment ships.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

from aws_cdk import assertions

from blueprint.factory import ROOT, Blueprint, build_app, cdk_json_context
from tasks import CI_SETTINGS

ENVIRONMENTS = tuple(cdk_json_context()["environments"])
# What CI passes with -c overlay=...: the principals and alert destinations production needs
# and cdk.json leaves to each deployment (tasks.py cfn-lint passes the same file).
CI_OVERLAY = str(CI_SETTINGS.relative_to(ROOT))


def ci_context(env: str = "sandbox", **overrides: Any) -> dict[str, Any]:
    """The context `tasks.py cfn-lint` synthesizes ENV with: cdk.json's, the CI overlay
    (left out when ``overrides`` replace the environments with some it does not know)."""
    context = {**cdk_json_context(), "env": env, **overrides}
    if set(json.loads(CI_SETTINGS.read_text())["environments"]) <= set(context["environments"]):
        context["overlay"] = CI_OVERLAY
    return context


def make_blueprint(env: str = "sandbox", **overrides: Any) -> Blueprint:
    """The app as `cdk synth -c env=ENV -c overlay=.ci/production-settings.json` builds it,
    without the nag plugins (tests run them)."""
    return build_app(ci_context(env, **overrides), enforce_compliance=False)


@cache
def built(env: str) -> Blueprint:
    return make_blueprint(env)


@cache
def template(env: str, stack_id: str) -> assertions.Template:
    stack = next(s for s in built(env).stacks if s.node.id == stack_id)
    return assertions.Template.from_stack(stack)


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    """Each environment of cdk.json in turn."""
    return str(request.param)


@pytest.fixture
def blueprint(env: str) -> Blueprint:
    return built(env)


@pytest.fixture
def storage(env: str) -> assertions.Template:
    return template(env, "Storage")


@pytest.fixture
def audit(env: str) -> assertions.Template:
    return template(env, "Audit")


def resources(tmpl: assertions.Template, type_: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by logical ID."""
    return dict(tmpl.find_resources(type_))


def only(tmpl: assertions.Template, type_: str) -> dict[str, Any]:
    """The properties of the one resource of ``type_``."""
    (resource,) = resources(tmpl, type_).values()
    return dict(resource["Properties"])


def construct_id(logical_id: str) -> str:
    """The construct path a logical ID was made from (CDK adds an 8-character hash)."""
    return logical_id[:-8]


DATASETS = ROOT / "datasets"
# A dataset that keeps one personal-data column in clear and is readable by the scientist only:
# with the samples and the documented example, it exercises every treatment and reader rule.
CUSTOMERS = """
name = "customers"
description = "Customer master data from the CRM."
owner = "crm-data@example.com"
domain = "sales"
classification = "confidential"
readers = ["scientist"]
primary_key = ["customer_id"]
schedule = "rate(1 day)"

[source]
mode = "batch"
format = "parquet"

[[columns]]
name = "customer_id"
type = "string"
description = "Customer number."
nullable = false

[[columns]]
name = "full_name"
type = "string"
description = "Name as registered."
pii = "keep"

[[columns]]
name = "email"
type = "string"
description = "Contact e-mail address."
pii = "hash"

[[columns]]
name = "country"
type = "string"
description = "Country of residence."
"""


def docs_example_declaration() -> str:
    """The complete example of docs/datasets.md, as a reader would copy it."""
    text = (ROOT / "docs" / "datasets.md").read_text()
    start = text.index("```toml\n") + len("```toml\n")
    return text[start : text.index("```", start)]


def datasets_folder(path: Path, *extra: tuple[str, str]) -> Path:
    """The shipped declarations plus ``extra`` (file name, text) in a new folder."""
    path.mkdir(parents=True, exist_ok=True)
    for declaration in DATASETS.glob("*.toml"):
        (path / declaration.name).write_text(declaration.read_text())
    for name, text in extra:
        (path / name).write_text(text)
    return path


@pytest.fixture(scope="session")
def spark() -> Any:
    """One local SparkSession for every test of the process (``spark_session`` is getOrCreate:
    a module that stopped it would leave the next one a session without its catalogs)."""
    pytest.importorskip("pyspark")
    from local_lake.spark import spark_session

    return spark_session()


@pytest.fixture(scope="session")
def lake(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The name of a local Iceberg catalog (a Hadoop catalog on a folder) for the tests."""
    from local_lake.spark import iceberg_catalog

    return iceberg_catalog(spark, tmp_path_factory.mktemp("warehouse"))
