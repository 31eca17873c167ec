"""Who an erasure looks for, and what erasing them from one file gives.

Shared by the readers of each kind of file (``erasure_files`` for CSV and Parquet,
``erasure_json`` for JSON lines and documents) and by the erasure's other steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Characters an identifier or an e-mail address may continue with: a value found with one of
# them beside it is part of a longer token, not the subject's value.
_TOKEN_CHARS = r"A-Za-z0-9@._+\-"  # noqa: S105 - a character class, no password


@dataclass(frozen=True)
class Subject:
    """The person an erasure looks for, in one dataset: the value as given (trimmed), its
    salted hash as curated holds a hashed column, and the declared subject column."""

    value: str
    hash: str
    column: str
    hashed: bool

    def holds(self, text: str) -> bool:
        """Whether the clear value (or the hash) stands in ``text`` as a whole token."""
        return any(_token(v).search(text) for v in (self.value, self.hash))

    def curated_value(self) -> str:
        """What the curated table's subject column holds for this person."""
        return self.hash if self.hashed else self.value


@dataclass(frozen=True)
class Rewrite:
    """What erasing the subject from one file's bytes gives.

    ``removed``: the subject's records cut out; ``body``: the file without them (None when
    nothing was removed, or the whole file must go); ``delete``: why the whole file must go;
    ``unsearched``: why the file could not be searched at all."""

    removed: int = 0
    body: bytes | None = None
    delete: str | None = None
    unsearched: str | None = None


def _token(value: str) -> re.Pattern[str]:
    return re.compile(f"(?<![{_TOKEN_CHARS}]){re.escape(value)}(?![{_TOKEN_CHARS}])")


def as_text(body: bytes, subject: Subject, why: str) -> Rewrite:
    """A file no record can be cut from: it goes whole if the value is in its text."""
    if subject.holds(body.decode("latin-1")):
        return Rewrite(delete=f"holds the subject and cannot be rewritten: {why}")
    return Rewrite()
