"""AWS on this machine: moto as a server on 127.0.0.1, and S3 prefixes as local folders.

moto runs as a server, not inside this process (``mock_aws``), because the ingest function's
bundle runs in a process of its own, as Lambda runs it, and must see the same buckets as the
rest of the run. Every client, in this process or that one, reaches the server through the
environment: ``AWS_ENDPOINT_URL``, credentials that can reach nothing real, the run's region.
The environment is restored afterwards.

Spark and DuckDB read and write local folders: ``S3Folders`` copies an S3 prefix down before
a read and the folder back after a write, so every byte between stages passes through moto's
S3.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_lake.assembly import REGION

# Unset for the run (a profile or a flag could send a client elsewhere), restored after it.
_LEFT_OUT = ("AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


@dataclass(frozen=True)
class LocalAws:
    """The moto server, and the environment variables that point a client at it."""

    endpoint: str
    environment: dict[str, str]

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session(region_name=REGION).client(service)


@contextlib.contextmanager
def moto_server(log: Path) -> Iterator[LocalAws]:
    """moto's S3, Secrets Manager and Glue on 127.0.0.1 (a free port), for this process and
    its children; its request log goes to ``log``."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    with _request_log(log):
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        _reset(endpoint)  # moto's state is per process: start from empty buckets
        environment = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
        try:
            with _environ({**environment, **dict.fromkeys(_LEFT_OUT)}):
                yield LocalAws(endpoint, environment)
        finally:
            _reset(endpoint)
            server.stop()


def _reset(endpoint: str) -> None:
    """Empty moto's state (the server shares it with this process): no bucket of an earlier
    run in this process survives into the next."""
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310 - the local moto server


@contextlib.contextmanager
def _environ(values: Mapping[str, str | None]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextlib.contextmanager
def _request_log(path: Path) -> Iterator[None]:
    """The server's request lines (werkzeug's log) to a file, not to the terminal."""
    logger = logging.getLogger("werkzeug")
    handler = logging.FileHandler(path)
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def split(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as (bucket, prefix)."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


class S3Folders:
    """S3 prefixes as local folders of the same layout, under ``<root>/<bucket>/<prefix>``."""

    def __init__(self, s3: Any, root: Path) -> None:
        self.s3, self.root = s3, root

    def _keys(self, bucket: str, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def download(self, uri: str) -> Path:
        """Copy everything under an s3:// prefix to its local folder (emptied first)."""
        bucket, prefix = split(uri)
        target = self.root / bucket / prefix
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for key in self._keys(bucket, prefix):
            path = self.root / bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, key, str(path))
        return target

    def upload(self, folder: Path, uri: str) -> int:
        """Make the s3:// prefix hold what ``folder`` holds: its data files (not Spark's
        ``_SUCCESS`` and ``.crc`` markers) are uploaded, and the objects whose file Spark
        replaced (a partition it overwrote) are deleted, as in Glue."""
        bucket, prefix = split(uri)
        files = {prefix + p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
                 if p.is_file() and not p.name.startswith((".", "_"))}  # fmt: skip
        held = self._keys(bucket, prefix)
        for key, path in files.items():
            self.s3.upload_file(str(path), bucket, key)
        for key in held:
            if key not in files and not (folder / key.removeprefix(prefix)).exists():
                self.s3.delete_object(Bucket=bucket, Key=key)
        return len(files)
