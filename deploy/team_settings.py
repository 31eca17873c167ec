"""The check the delivery workflow makes before prod: the team's settings file is its own.

Prod deploys with a settings overlay (``-c overlay=FILE``, README "Configuration") that the team
commits, so its principals and alert destinations are reviewed like code. The repository
carries ``.ci/production-settings.json``, example ARNs for CI's synth that exist in no account;
a copy of it would pass synth and deploy prod with principals nobody holds. So the file must
exist, be a JSON object, and name none of the example's accounts.

    python3 -m deploy.team_settings FILE    exit 0, or 1 with a GitHub error annotation

Standard library only: the workflow runs it before anything is installed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI_EXAMPLE = ROOT / ".ci" / "production-settings.json"
_ACCOUNT = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


def example_accounts(example: Path = CI_EXAMPLE) -> set[str]:
    """The account IDs in the ARNs of CI's example settings."""
    return set(_ACCOUNT.findall(example.read_text()))


def problem(path: Path, example: Path = CI_EXAMPLE) -> str | None:
    """What is wrong with the team's settings file at ``path``, or None when it will do."""
    if not path.is_file():
        return (
            f"{path}: no such file. Prod deploys with the team's own settings: commit them"
            " there (docs/deploying.md)"
        )
    try:
        settings = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        return f"{path}: expected JSON ({error})"
    if not isinstance(settings, dict) or not isinstance(settings.get("environments"), dict):
        return f'{path}: expected an object {{"environments": {{"prod": {{...}}}}}}'
    borrowed = sorted(example_accounts(example) & set(_ACCOUNT.findall(path.read_text())))
    if borrowed:
        return (
            f"{path}: names account {', '.join(borrowed)}, CI's example in"
            f" {example.relative_to(ROOT) if example.is_relative_to(ROOT) else example},"
            " which exists nowhere: put your own principals and alert destinations there"
        )
    return None


def main(argv: list[str]) -> int:
    """Check ``FILE``: exit 0 when it will do, else 1 with an ``::error`` line GitHub shows."""
    if len(argv) != 1:
        print("usage: python3 -m deploy.team_settings FILE", file=sys.stderr)
        return 2
    found = problem(Path(argv[0]))
    if found is None:
        print(f"{argv[0]}: the team's settings for prod")
        return 0
    print(f"::error title=Prod settings::{found}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
