"""The Jackson relocation that makes the PyPI copy of Iceberg's Spark runtime work locally."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("pyspark")

from local_lake import iceberg_jars

SHADED = b"org/apache/iceberg/shaded/com/fasterxml/jackson/"


def test_the_runtime_jar_lacks_the_jackson_it_refers_to() -> None:
    # Why the relocation exists: the jar's own classes refer to Iceberg's shaded Jackson,
    # which the package leaves out. If a later release ships it, the relocation can go.
    runtime = Path(iceberg_jars.iceberg_jars()[0])
    with zipfile.ZipFile(runtime) as jar:
        names = set(jar.namelist())
        assert SHADED.decode() + "core/JsonFactoryBuilder.class" not in names
        parser = jar.read("org/apache/iceberg/TableMetadataParser.class")
    assert SHADED in parser


def test_every_jackson_name_is_moved_under_icebergs_and_nothing_else() -> None:
    relocated = Path(iceberg_jars.iceberg_jars()[1])
    with zipfile.ZipFile(relocated) as jar:
        names = jar.namelist()
        builder = jar.read(SHADED.decode() + "core/JsonFactoryBuilder.class")
        services = [n for n in names if n.startswith("META-INF/services/")]
    assert names
    assert all(n.startswith(SHADED.decode()) or n in services for n in names)
    # Every reference in the class is to the shaded package; none to the original one.
    assert SHADED in builder
    assert not re.search(rb"(?<!shaded/)com/fasterxml/jackson/", builder)
    assert b"java/io/" in builder or b"java/lang/" in builder  # other packages untouched
    assert builder[:4] == b"\xca\xfe\xba\xbe"  # still a class file
