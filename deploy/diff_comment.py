"""A pull request's comment from a ``cdk diff``: what merging it would change in one environment.

The deploy workflow (.github/workflows/deploy.yml) posts it, so a reviewer sees the changes to
the sandbox and to prod, security changes among them, before approving. GitHub refuses a
comment over 65,536 characters, and nobody reads one that long: a longer diff is cut at a line
boundary, with a note saying how much was left out and where the whole diff is, the job's log.
The CLI colours its output on GitHub's runners; the colour codes are dropped.

    python3 -m deploy.diff_comment ENV DIFF_FILE LOG_URL > comment.md

Standard library only, so the workflow runs it with any Python 3.11+.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Below GitHub's 65,536 characters, leaving room for the heading, the fence and the note.
LIMIT = 60_000
_COLOUR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def comment(env_name: str, diff: str, log_url: str, limit: int = LIMIT) -> str:
    """The comment's Markdown: a heading naming ``env_name``, then the diff (without colour
    codes) in a code block, cut to at most ``limit`` characters at a line boundary with a note
    linking ``log_url`` when longer. An empty diff says so rather than showing an empty block."""
    text = _COLOUR.sub("", diff).strip("\n")
    heading = f"### `cdk diff` of {env_name}\n\n"
    if not text.strip():
        return f"{heading}The diff printed nothing: see [the job's log]({log_url}).\n"
    note = ""
    if len(text) > limit:
        kept = text[:limit]
        kept = kept[: kept.rfind("\n")] if "\n" in kept else kept
        note = (
            f"\n**Cut short:** {len(text) - len(kept):,} of {len(text):,} characters left out."
            f" The whole diff is in [the job's log]({log_url}).\n"
        )
        text = kept
    # A fence longer than any run of backticks in the diff, so none of it closes the block.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{heading}{fence}\n{text}\n{fence}\n{note}"


def main(argv: list[str]) -> int:
    """Print the comment for ``ENV DIFF_FILE LOG_URL``; exit 2 with a usage line otherwise."""
    if len(argv) != 3:
        print("usage: python3 -m deploy.diff_comment ENV DIFF_FILE LOG_URL", file=sys.stderr)
        return 2
    env_name, diff_file, log_url = argv
    print(comment(env_name, Path(diff_file).read_text(errors="replace"), log_url), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
