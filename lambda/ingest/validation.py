"""Checks a landed file against its dataset's declaration, before anything is copied.

Each check returns (or, deep in a stream, raises as ``Rejected``) a reason code (stable, used
in metrics, tags and the reason object) and a sentence a person can act on; ``None`` means the
file passed. The content checks that read the file are in content.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EXTENSIONS = {"csv": (".csv",), "jsonl": (".jsonl", ".json", ".ndjson"), "parquet": (".parquet",)}
# Formats whose files may also arrive gzip-compressed, named <name>.<extension>.gz.
GZIP_FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class Rejection:
    reason: str  # a code: unknown_dataset, wrong_extension, empty_file, too_large, ...
    detail: str  # what was found and what was expected


class Rejected(Exception):  # noqa: N818 (a verdict, not a failure of the function)
    """A check deep in a stream found the file unacceptable: stop reading and quarantine it."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.rejection = Rejection(reason, detail)


def allowed_extensions(file_format: str) -> tuple[str, ...]:
    plain = EXTENSIONS[file_format]
    return plain + tuple(f"{e}.gz" for e in plain) if file_format in GZIP_FORMATS else plain


def check_name(key: str, specs: Mapping[str, Any]) -> tuple[str | None, Rejection | None]:
    """The dataset a key belongs to (its first folder), and whether its extension fits."""
    dataset, _, rest = key.partition("/")
    if not rest or dataset not in specs:
        known = ", ".join(sorted(specs))
        return None, Rejection(
            "unknown_dataset",
            f"{key!r} is not under a declared dataset's folder; expected <dataset>/<file> with "
            f"a dataset among {known}",
        )
    allowed = allowed_extensions(specs[dataset]["format"])
    if not rest.lower().endswith(allowed):
        return dataset, Rejection(
            "wrong_extension",
            f"{key!r} does not end in {' or '.join(allowed)}, as a {specs[dataset]['format']} "
            "file must",
        )
    return dataset, None


def check_size(size: int, max_bytes: int) -> Rejection | None:
    if size == 0:
        return Rejection("empty_file", "the file has no content")
    if size > max_bytes:
        return Rejection("too_large", f"the file has {size} bytes; the limit is {max_bytes} bytes")
    return None


def check_header(
    header: Sequence[str], columns: Sequence[str], new_columns: str
) -> tuple[Rejection | None, list[str]]:
    """A CSV header against the declared columns, in any order (readers map by name).

    Returns the rejection, if any, and the header's columns the declaration lacks (accepted,
    and ignored downstream, when ``new_columns`` is "ignore").
    """
    counts = Counter(header)
    duplicates = [name for name, times in counts.items() if times > 1]
    missing = [c for c in columns if c not in counts]
    declared = set(columns)
    unexpected = [name for name in counts if name not in declared]
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("duplicate", duplicates),
        )
        if names
    ]
    if missing or duplicates or (unexpected and new_columns == "quarantine"):
        hint = _likely_cause(missing, unexpected)
        detail = "; ".join(parts) + (f" ({hint})" if hint else "")
        return Rejection("header_mismatch", detail), unexpected
    return None, unexpected


_OTHER_DELIMITERS = (";", "\t", "|", ",")


def _likely_cause(missing: list[str], unexpected: list[str]) -> str:
    """What a header that names no declared column usually means, when it can be told."""
    if not missing or not unexpected:
        return ""
    first = unexpected[0]
    if first.startswith(("\ufeff", "\u00ef\u00bb\u00bf")):
        return "the header starts with a UTF-8 byte-order mark: the file is UTF-8, declare it so"
    if len(unexpected) == 1:
        found = [d for d in _OTHER_DELIMITERS if d in first and first.count(d) >= len(missing) - 1]
        if found:
            return f"the header looks delimited by {found[0]!r}: declare that delimiter"
    if {m.lower() for m in missing} <= {u.strip().lower() for u in unexpected}:
        return "the names differ only in case or spaces: names are compared exactly"
    return ""
