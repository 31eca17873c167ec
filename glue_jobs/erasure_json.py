"""JSON without a data subject: JSON lines cut record by record, JSON documents redacted.

JSON lines are a source's records, the rows the curation quarantined (Spark writes them as
JSON whatever the source: the row as it arrived in ``raw``), curated rows a quality rule held
back (hashed), Firehose's error records (the record in ``rawData``, base64). The one JSON
document of the lake's folders is the reasons file beside a quarantined file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from glue_jobs.erasure_subject import Rewrite, Subject, as_text

ERASED = "[erased]"


def _text_value(value: Any) -> str | None:
    """A JSON value as the curation reads it as text: a string trimmed, a number as written."""
    if isinstance(value, str):
        return value.strip()
    if value is None or isinstance(value, bool | dict | list):
        return None
    return json.dumps(value)


def _record_holds(record: Mapping[str, Any], subject: Subject) -> bool:
    """A JSON object of the subject: a source record, a quarantined row (its ``raw`` text is
    the row as it arrived), a curated row held back by a quality rule, a Firehose error
    record (its ``rawData``, base64)."""
    if "raw" in record and "reason" in record and isinstance(record["raw"], str):
        return _raw_text_holds(record["raw"], subject)
    if "rawData" in record and isinstance(record["rawData"], str):
        try:
            return _raw_text_holds(base64.b64decode(record["rawData"]).decode("utf-8"), subject)
        except ValueError:
            return subject.holds(record["rawData"])
    found = _text_value(record.get(subject.column))
    return found is not None and found in (subject.value, subject.hash)


def _raw_text_holds(text: str, subject: Subject) -> bool:
    try:
        record = json.loads(text)
    except ValueError:
        return subject.holds(text)
    if isinstance(record, dict):
        return _record_holds(record, subject)
    return subject.holds(text)


def json_lines(body: bytes, subject: Subject) -> Rewrite:
    """JSON lines: each line is a record, or several written without a line break between
    them (Firehose keeps records as they are put), cut one by one; a line that is no JSON
    is text, cut whole when the value stands in it."""
    kept: list[bytes] = []
    removed = 0
    for line in body.splitlines(keepends=True):
        text = line.decode("utf-8", errors="surrogateescape")
        spans = _values(text)
        holding = [(a, b) for a, b, value in spans if _value_holds(value, text[a:b], subject)]
        if not spans and text.strip() and subject.holds(text):
            removed += 1
            continue
        for start, end in reversed(holding):
            text = text[:start] + text[end:]
        removed += len(holding)
        if holding and not text.strip():
            continue  # every record of the line was the subject's
        kept.append(text.encode("utf-8", errors="surrogateescape") if holding else line)
    return Rewrite(removed, b"".join(kept)) if removed else Rewrite()


def _values(text: str) -> list[tuple[int, int, Any]]:
    """The JSON values of one line, with where each starts and ends; [] when the line is not
    all JSON values (then it is text)."""
    decoder, index = json.JSONDecoder(), 0
    spans: list[tuple[int, int, Any]] = []
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index == len(text):
            return spans
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            return []
        spans.append((index, end, value))
        index = end


def _value_holds(value: Any, text: str, subject: Subject) -> bool:
    if isinstance(value, dict):
        return _record_holds(value, subject)
    return subject.holds(text)


def json_document(body: bytes, subject: Subject) -> Rewrite:
    """One JSON document (the reasons beside a quarantined file): each text in it holding
    the value becomes ``[erased]``; the document stays valid JSON, its other fields kept."""
    try:
        document = json.loads(body)
    except ValueError:
        return as_text(body, subject, "not the JSON document its name says")
    found = 0

    def redact(value: Any) -> Any:
        nonlocal found
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        if isinstance(value, str) and subject.holds(value):
            found += 1
            return ERASED
        return value

    redacted = redact(document)
    if not found:
        return Rewrite()
    return Rewrite(found, json.dumps(redacted, indent=2).encode())
