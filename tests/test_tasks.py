"""tasks.py's command line: what the README tells people to type does what it says."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tasks

ROOT = Path(__file__).resolve().parent.parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "tasks.py", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)  # fmt: skip


def test_help_lists_every_command_and_exits_0() -> None:
    shown = run("--help")
    assert shown.returncode == 0
    for name in (*tasks.PLAIN, *tasks.PASSING_ON, *tasks.WITH_ENV):
        assert re.search(rf"^\s+{re.escape(name)}\b", shown.stdout, re.MULTILINE), name


def test_an_unknown_command_is_named_and_exits_2() -> None:
    refused = run("synthesize")
    assert refused.returncode == 2
    assert "invalid choice: 'synthesize'" in refused.stderr


def test_context_passes_on_to_cdk_for_synth_diff_and_deploy() -> None:
    args = tasks.parser().parse_args(["synth", "sandbox", "-c", "datasets=my-datasets"])
    assert (args.env, args.context) == ("sandbox", ["datasets=my-datasets"])
    assert tasks.cdk_command("synth", "sandbox", ["datasets=my-datasets"]) == [
        "cdk", "synth", "--quiet", "--output", "cdk.out",
        "-c", "env=sandbox", "-c", "datasets=my-datasets",
    ]  # fmt: skip
    assert tasks.cdk_command("diff", "prod", ["a=b"]) == ["cdk", "diff", "-c", "env=prod",
                                                          "-c", "a=b"]  # fmt: skip
    assert tasks.cdk_command("deploy", "prod", []) == ["cdk", "deploy", "--all", "-c", "env=prod"]
    with pytest.raises(SystemExit, match="expected KEY=VALUE"):
        tasks.cdk_command("synth", "sandbox", ["datasets"])


def test_a_tool_s_own_options_pass_on_as_they_are() -> None:
    assert tasks.dispatch(["test", "-x", "-k", "name", "tests/test_tasks.py"]) == (
        tasks.test, ("-x", "-k", "name", "tests/test_tasks.py"))  # fmt: skip
    assert tasks.dispatch(["demo", "--keep", "--datasets", "d"]) == (
        tasks.demo, ("--keep", "--datasets", "d"))  # fmt: skip
    assert tasks.dispatch(["bench-scale", "--help"]) == (tasks.bench_scale, ("--help",))
    assert tasks.dispatch(["synth"]) == (tasks.synth, ("sandbox", "cdk.out"))
    assert tasks.dispatch(["diff", "prod", "-c", "a=b"]) == (tasks.diff, ("prod", "a=b"))
    assert tasks.dispatch(["feed", "prod"]) == (tasks.feed, ("prod",))
    assert tasks.dispatch(["preflight"]) == (tasks.preflight, ("sandbox",))
    assert tasks.dispatch(["preflight", "prod", "-c", "a=b"]) == (tasks.preflight, ("prod", "a=b"))
    assert tasks.dispatch(["lint"]) == (tasks.lint, ())


def test_forget_passes_the_person_s_value_and_the_reason_on_to_its_module() -> None:
    assert tasks.dispatch(["forget", "prod", "--subject-value", "-", "--reason", "ticket 42"]) == (
        tasks.forget, ("prod", "--subject-value", "-", "--reason", "ticket 42"))  # fmt: skip
    refused = run("forget", "--reason", "ticket 42")
    assert refused.returncode == 2
    assert "the following arguments are required: --subject-value" in refused.stderr
    shown = subprocess.run([sys.executable, "-m", "deploy.forget", "--help"], cwd=ROOT,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert "--env ENV --subject-value VALUE --reason" in " ".join(shown.stdout.split())


def test_each_task_runs_its_script_or_module_with_the_project_s_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(tasks, "ensure_environment", lambda dev: None)
    monkeypatch.setattr(tasks, "_run", lambda *cmd, env=None: ran.append([str(c) for c in cmd]))
    tasks.test("-x")
    tasks.demo("--keep")
    tasks.bench_scale("--help")
    tasks.feed("prod")
    tasks.forget("prod", "--subject-value", "-", "--reason", "r")
    python = str(tasks.PYTHON)
    assert ran == [
        [python, "-m", "pytest", "-x"],
        [python, "-m", "local_lake", "--keep"],
        [python, "scripts/bench_scale.py", "--help"],
        [python, "scripts/feed.py", "--env", "prod"],
        [python, "-m", "deploy.forget", "--env", "prod", "--subject-value", "-", "--reason", "r"],
    ]


def test_the_preflight_module_tasks_py_runs_takes_the_environment_and_the_assembly() -> None:
    shown = subprocess.run([sys.executable, "-m", "deploy.preflight", "--help"], cwd=ROOT,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert shown.returncode == 0
    assert "--env ENV --assembly ASSEMBLY" in shown.stdout
    refused = run("preflight", "staging")
    assert refused.returncode == 2
    assert "invalid choice: 'staging'" in refused.stderr


def test_an_unknown_environment_is_refused_with_the_known_ones() -> None:
    refused = run("synth", "staging")
    assert refused.returncode == 2
    assert "invalid choice: 'staging' (choose from 'sandbox', 'prod')" in refused.stderr


def _accepted(verb: str) -> set[str]:
    shown = subprocess.run([str(CDK), verb, "--help"], capture_output=True, text=True,
                           check=False, cwd=ROOT)  # fmt: skip
    return set(re.findall(r"^\s+(--[a-z-]+)", shown.stdout + shown.stderr, re.MULTILINE))


@pytest.mark.skipif(not CDK.exists(), reason="the pinned CDK CLI is installed by tasks.py")
def test_every_cdk_option_the_project_uses_is_one_the_pinned_cli_accepts() -> None:
    used: dict[str, set[str]] = {}
    for action in ("synth", "diff", "deploy"):
        command = tasks.cdk_command(action, "sandbox", [])
        used.setdefault(action, set()).update(a for a in command if a.startswith("--"))
    for path in (
        "README.md",
        "Makefile",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
    ):
        text = (ROOT / path).read_text()
        for verb, options in re.findall(r"\bcdk (synth|diff|deploy|destroy)((?: --?[a-z-]+)*)",
                                        text):  # fmt: skip
            used.setdefault(verb, set()).update(o for o in options.split() if o.startswith("--"))
    for verb, options in used.items():
        refused = options - _accepted(verb)
        assert not refused, f"cdk {verb} does not accept {sorted(refused)}"


def test_a_pipeline_s_cli_options_pass_on_to_cdk_and_only_to_their_command() -> None:
    task, arguments = tasks.dispatch(["deploy", "prod", "-c", "overlay=s.json",
                                      "--require-approval", "never"])  # fmt: skip
    assert isinstance(task, functools.partial)
    assert task.func is tasks.deploy
    assert arguments == ("prod", "overlay=s.json")
    assert tasks.cdk_command("deploy", *arguments[:1], list(arguments[1:]), **task.keywords) == [
        "cdk", "deploy", "--all", "-c", "env=prod", "-c", "overlay=s.json",
        "--require-approval", "never",
    ]  # fmt: skip
    task, arguments = tasks.dispatch(["diff", "--method", "template"])
    assert (task.func, task.keywords, arguments) == (  # type: ignore[attr-defined]
        tasks.diff, {"cli": ("--method", "template")}, ("sandbox",))  # fmt: skip
    refused = run("diff", "sandbox", "--require-approval", "never")
    assert refused.returncode == 2
    assert "unrecognized arguments" in refused.stderr
    refused = run("deploy", "--require-approval", "sometimes")
    assert refused.returncode == 2
    assert "invalid choice: 'sometimes'" in refused.stderr


@pytest.mark.skipif(not CDK.exists(), reason="the pinned CDK CLI is installed by tasks.py")
def test_the_pipeline_s_cli_options_and_their_values_are_the_pinned_cli_s() -> None:
    for verb, (option, choices) in tasks.CLI_OPTIONS.items():
        assert option in _accepted(verb), f"cdk {verb} does not accept {option}"
        shown = subprocess.run([str(CDK), verb, "--help"], capture_output=True, text=True,
                               check=False, cwd=ROOT).stdout  # fmt: skip
        listed = re.search(rf"^\s+{option}\b(.*?)(?=^\s+--)", shown, re.MULTILINE | re.DOTALL)
        assert listed, option
        offered = re.findall(r'"([a-z-]+)"', listed.group(1).split("[choices:")[-1])
        assert set(choices) <= set(offered), (option, choices, offered)
