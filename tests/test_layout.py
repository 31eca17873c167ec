"""The code stays readable at a glance: no module over 300 lines, no function over 80.

The floors themselves (what may import what) are import contracts in pyproject.toml, checked
by ``lint-imports``; this holds the size of the rooms. Tests are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

from blueprint.factory import ROOT

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 80
CODE = ("app.py", "tasks.py", "blueprint", "model", "stacks", "cdk_constructs", "tools",
        "local_lake", "glue_jobs", "lambda", "scripts", "deploy")  # fmt: skip


def modules() -> list[Path]:
    found = []
    for name in CODE:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def test_the_code_is_where_this_test_looks() -> None:
    assert len(modules()) > 80


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): length
        for path in modules()
        if (length := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these by topic: {long}"


def test_no_function_is_over_80_lines() -> None:
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = length
    assert not long, f"make these a list of named parts: {long}"
