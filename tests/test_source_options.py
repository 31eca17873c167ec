"""The source options that decide how a file's bytes become values: each absent (its default),
each given, and each wrong value failing with the file, the field and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.datasets import DatasetError, Source
from tests.test_datasets import GOOD, _load, change

JSONL = change('format = "csv"      # csv, jsonl or parquet; a streaming source is jsonl\n'
               'delimiter = ";"     # csv only, default ","\n'
               'header = true       # csv only, default true', 'format = "jsonl"')  # fmt: skip


def test_every_option_left_out_gives_the_documented_defaults(tmp_path: Path) -> None:
    source = _load(GOOD, tmp_path).source
    assert (source.encoding, source.null_values) == ("utf-8", ("",))
    assert (source.new_columns, source.float_integers) == ("ignore", False)
    spec = _load(GOOD, tmp_path).processing_spec()["source"]
    assert spec["encoding"] == "utf-8"
    assert spec["null_values"] == [""]
    assert spec["new_columns"] == "ignore"
    assert spec["float_integers"] is False


def test_every_option_given_reaches_both_specs(tmp_path: Path) -> None:
    text = change(
        "header = true       # csv only, default true",
        'header = true\nencoding = "windows-1252"\nnull_values = ["", "NA", "n/a"]\n'
        'new_columns = "quarantine"\nfloat_integers = true',
    )
    dataset = _load(text, tmp_path)
    assert dataset.source == Source(
        "batch", "csv", ";", True, "windows-1252", ("", "NA", "n/a"), "quarantine", True
    )
    assert dataset.landing_spec() == dataset.processing_spec()["source"]
    assert dataset.landing_spec()["null_values"] == ["", "NA", "n/a"]


def test_a_jsonl_source_takes_null_tokens_and_a_new_column_policy(tmp_path: Path) -> None:
    text = JSONL.replace('format = "jsonl"', 'format = "jsonl"\nnull_values = ["NA"]\n'
                         'new_columns = "quarantine"')  # fmt: skip
    source = _load(text, tmp_path).source
    assert (source.null_values, source.new_columns) == (("NA",), "quarantine")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('delimiter = ";"', 'delimiter = ";"\nencoding = "latin1"',
         "source.encoding = 'latin1': expected one of utf-8, iso-8859-1, iso-8859-15, "
         "windows-1252"),
        ('delimiter = ";"', 'delimiter = ";"\nnull_values = "NA"',
         "source.null_values = 'NA': expected a list of distinct strings"),
        ('delimiter = ";"', 'delimiter = ";"\nnull_values = [" NA"]',
         "source.null_values = [' NA']: expected a list of distinct strings without "
         "surrounding spaces"),
        ('delimiter = ";"', 'delimiter = ";"\nnull_values = ["NA", "NA"]',
         "source.null_values = ['NA', 'NA']: expected a list of distinct strings"),
        ('delimiter = ";"', 'delimiter = ";"\nnew_columns = "drop"',
         "source.new_columns = 'drop': expected one of ignore, quarantine"),
        ('delimiter = ";"', 'delimiter = ";"\nfloat_integers = "yes"',
         "source.float_integers = 'yes': expected true or false"),
        ("header = true ", 'new_columns = "quarantine"\nheader = false ',
         "source.new_columns = 'quarantine': expected a header row to tell new columns by"),
    ],
    ids=["unknown-encoding", "null-values-not-a-list", "null-token-with-spaces",
         "null-token-twice", "unknown-policy", "float-integers-not-a-flag",
         "new-columns-without-header"],
)  # fmt: skip
def test_a_wrong_option_fails_naming_the_field(
    old: str, new: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(DatasetError) as error:
        _load(change(old, new), tmp_path)
    assert f"{tmp_path.name}/payments.toml: " in str(error.value)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("fmt", "option", "message"),
    [
        ("jsonl", 'encoding = "iso-8859-1"', "no CSV option for format 'jsonl' (JSON text is "
         "UTF-8)"),
        ("parquet", 'null_values = ["NA"]', "no null tokens for parquet"),
    ],
)  # fmt: skip
def test_an_option_the_format_has_not_fails(
    fmt: str, option: str, message: str, tmp_path: Path
) -> None:
    text = JSONL.replace('format = "jsonl"', f'format = "{fmt}"\n{option}')
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _load(text, tmp_path)
