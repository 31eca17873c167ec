"""What the delivery workflow runs besides the CDK: the pull request's diff comment, and the
check that prod deploys with the team's own settings, not CI's examples."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import diff_comment, team_settings

ROOT = Path(__file__).resolve().parent.parent
LOG = "https://github.com/acme/lake/actions/runs/1"
DIFF = """Stack datalake-sandbox-storage
\x1b[1mResources\x1b[22m
\x1b[32m[+]\x1b[39m AWS::S3::Bucket Landing LandingBucket
"""


def test_a_short_diff_is_shown_whole_without_colour_codes() -> None:
    shown = diff_comment.comment("sandbox", DIFF, LOG)
    assert shown == (
        "### `cdk diff` of sandbox\n\n```\nStack datalake-sandbox-storage\nResources\n"
        "[+] AWS::S3::Bucket Landing LandingBucket\n```\n"
    )


def test_a_long_diff_is_cut_at_a_line_with_a_note_pointing_to_the_log() -> None:
    lines = [f"[~] AWS::IAM::Role Role{i} change {'x' * 40}" for i in range(3000)]
    shown = diff_comment.comment("prod", "\n".join(lines), LOG)
    assert len(shown) < 65_536  # GitHub's limit for a comment
    body = shown.split("```\n")[1]
    kept = body.splitlines()
    assert kept == lines[: len(kept)]
    assert 0 < len(kept) < len(lines)
    left_out = len("\n".join(lines)) - len("\n".join(kept))
    assert f"**Cut short:** {left_out:,} of {len(chr(10).join(lines)):,} characters" in shown
    assert f"[the job's log]({LOG})" in shown


def test_a_diff_at_the_limit_is_not_cut() -> None:
    text = "a" * 50 + "\n" + "b" * 49
    assert "Cut short" not in diff_comment.comment("sandbox", text, LOG, limit=100)
    assert "Cut short" in diff_comment.comment("sandbox", text + "c", LOG, limit=100)


def test_backticks_in_the_diff_cannot_close_the_block() -> None:
    shown = diff_comment.comment("sandbox", "Description: ```` quoted", LOG)
    assert shown.splitlines()[2] == "`````"
    assert shown.rstrip().endswith("`````")


def test_an_empty_diff_says_so_and_where_to_look() -> None:
    shown = diff_comment.comment("sandbox", "\n\x1b[0m\n", LOG)
    assert shown == (
        f"### `cdk diff` of sandbox\n\nThe diff printed nothing: see [the job's log]({LOG}).\n"
    )


def test_the_command_line_prints_the_comment_or_the_usage(tmp_path: Path) -> None:
    (tmp_path / "diff.txt").write_text(DIFF)
    run = subprocess.run([sys.executable, "-m", "deploy.diff_comment", "sandbox",
                          str(tmp_path / "diff.txt"), LOG], cwd=ROOT, capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert run.returncode == 0
    assert run.stdout == diff_comment.comment("sandbox", DIFF, LOG)
    assert diff_comment.main(["sandbox"]) == 2


def _settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prod-settings.json"
    path.write_text(text)
    return path


def test_the_team_s_own_settings_will_do(tmp_path: Path) -> None:
    own = team_settings.CI_EXAMPLE.read_text().replace("111122223333", "444455556666")
    assert team_settings.problem(_settings(tmp_path, own)) is None
    assert team_settings.main([str(tmp_path / "prod-settings.json")]) == 0


def test_ci_s_examples_are_refused_even_in_part(tmp_path: Path) -> None:
    assert team_settings.example_accounts() == {"111122223333"}
    copied = tmp_path / "copy.json"
    shutil.copy(team_settings.CI_EXAMPLE, copied)
    assert "names account 111122223333" in (team_settings.problem(copied) or "")
    own = json.loads(team_settings.CI_EXAMPLE.read_text().replace("111122223333", "444455556666"))
    own["environments"]["prod"]["lakeFormationAdmins"] = ["arn:aws:iam::111122223333:role/x"]
    found = team_settings.problem(_settings(tmp_path, json.dumps(own)))
    assert found is not None
    assert ".ci/production-settings.json" in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{not json", "expected JSON"), ("[]", "expected an object"),
     ('{"prod": {}}', "expected an object")],
)  # fmt: skip
def test_a_file_that_is_not_an_overlay_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in (team_settings.problem(_settings(tmp_path, text)) or "")


def test_a_missing_file_fails_the_job_with_an_annotation(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "deploy.team_settings",
                          str(tmp_path / "absent.json")], cwd=ROOT, capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert run.returncode == 1
    assert run.stdout.startswith("::error title=Prod settings::")
    assert "no such file" in run.stdout
    assert "docs/deploying.md" in run.stdout
    assert team_settings.main([]) == 2
