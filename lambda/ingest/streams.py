"""The landed bytes as one stream: hashed as they arrive, then gunzipped, decoded and split.

Each step is a generator pulling from the one before, so a single read of the object hashes
it and feeds the content checks, holding only a chunk at a time (and one line). A step that
finds the content unacceptable raises ``Rejected``; reading stops there.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from validation import Rejected

READ_CHUNK = 8 * 1024 * 1024  # bytes per read of the landed object
INFLATE_CHUNK = 1024 * 1024  # at most this many decompressed bytes per step
TEXT_CHUNK = 1024 * 1024  # bytes decoded at a time: a chunk's text and lines stay small
MAX_LINE_CHARS = 16 * 1024 * 1024  # a longer line is no CSV or JSON lines file
GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer (CRC-32, size) around deflate


class Arrival:
    """The landed object's body, read in chunks, each hashed (SHA-256) and counted."""

    def __init__(self, body: Any, chunk_size: int | None = None) -> None:
        self._body = body
        self._chunk_size = chunk_size or READ_CHUNK
        self.digest = hashlib.sha256()
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        while chunk := self._body.read(self._chunk_size):
            self.digest.update(chunk)
            self.size += len(chunk)
            yield chunk


def peek(chunks: Iterator[bytes], count: int) -> tuple[bytes, Iterator[bytes]]:
    """The first ``count`` bytes (fewer if the stream is shorter), and the whole stream."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= count:
            break
    return head[:count], chain([head] if head else [], chunks)


def gunzip(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """The decompressed content of a gzip stream (one member or several, concatenated).

    Stops, rejecting the file, as soon as the content passes ``limit`` bytes (a small file can
    decompress to gigabytes), or when the stream is corrupt or cut short.
    """
    member = zlib.decompressobj(GZIP_WBITS)
    read = produced = 0
    for chunk in chunks:
        read += len(chunk)
        data = chunk
        while data:
            if member.eof:  # the previous member ended: another one follows
                member = zlib.decompressobj(GZIP_WBITS)
            for piece in _inflate(member, data, read):
                produced += len(piece)
                if produced > limit:
                    raise Rejected(
                        "decompressed_too_large",
                        f"the file decompresses to more than {limit} bytes, the limit "
                        "(ingest.maxFileMegabytes); decompression stopped there",
                    )
                yield piece
            data = member.unused_data
    if not member.eof:
        raise Rejected(
            "corrupt_gzip",
            f"the gzip stream ends before its end marker after {read} bytes: the file is "
            "cut short (an interrupted upload?)",
        )


def _inflate(member: Any, data: bytes, read: int) -> Iterator[bytes]:
    """Decompress ``data`` in pieces of at most INFLATE_CHUNK bytes."""
    while True:
        try:
            piece = member.decompress(data, INFLATE_CHUNK)
        except zlib.error as error:
            raise Rejected(
                "corrupt_gzip", f"the gzip stream is corrupt within its first {read} bytes: {error}"
            ) from None
        if piece:
            yield piece
        data = member.unconsumed_tail
        if member.eof or (not data and len(piece) < INFLATE_CHUNK):
            return


# Bytes 0x80-0x9f decode in ISO-8859-1 and -15 as C1 control characters, which no text uses:
# in a file declared so, they are a windows-1252 file's punctuation, and would be kept wrong.
_C1 = re.compile("[\x80-\x9f]")


def decode(chunks: Iterable[bytes], encoding: str, where: str = "") -> Iterator[str]:
    """The text of ``chunks`` in ``encoding``, strictly: an invalid byte rejects the file.

    A character split across two chunks is decoded whole. A UTF-8 byte order mark at the
    start is dropped. ``where`` says what the byte offsets count (the decompressed content).
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = newlines = 0  # bytes given to the decoder, line ends in the text so far
    started = False
    pieces = (c[i : i + TEXT_CHUNK] for c in chunks for i in range(0, len(c), TEXT_CHUNK))
    for chunk, final in chain(((p, False) for p in pieces), [(b"", True)]):
        pending = len(decoder.getstate()[0])  # bytes of a character cut at the last chunk
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            before = error.object[: error.start].decode(encoding)
            bad = error.object[error.start : error.end].hex(" ")
            raise Rejected(
                f"not_{encoding}",
                f"byte offset {offset - pending + error.start}{where}, line "
                f"{newlines + before.count(chr(10)) + 1}: bytes {bad} are not {encoding}, the "
                "declared encoding; declare the file's encoding or convert the file",
            ) from None
        control = _C1.search(text) if encoding.startswith("iso-8859-") else None
        if control:  # one byte per character: the index is the byte's place in the chunk
            raise Rejected(
                f"not_{encoding}",
                f"byte offset {offset + control.start()}{where}, line "
                f"{newlines + text.count(chr(10), 0, control.start()) + 1}: byte "
                f"{ord(control.group()):02x} is a control character in {encoding}, never "
                "text: the file is most likely windows-1252 (curly quotes, dashes, the euro "
                'sign); declare encoding = "windows-1252"',
            )
        offset += len(chunk)
        if text and not started:
            started = True
            if codecs.lookup(encoding).name == "utf-8":
                text = text.removeprefix("\ufeff")
        newlines += text.count("\n")
        if text:
            yield text


def split_lines(texts: Iterable[str], max_chars: int | None = None) -> Iterator[str]:
    """Lines ending in ``\\n`` (kept, so ``\\r\\n`` too), whatever the chunks' boundaries."""
    limit = max_chars or MAX_LINE_CHARS
    partial: list[str] = []
    partial_chars = 0
    lines = 0
    for text in texts:
        pieces = text.split("\n")
        for piece in pieces[:-1]:
            lines += 1
            yield "".join([*partial, piece, "\n"]) if partial else piece + "\n"
            partial, partial_chars = [], 0
        if pieces[-1]:
            partial.append(pieces[-1])
            partial_chars += len(pieces[-1])
            if partial_chars > limit:
                raise Rejected(
                    "line_too_long",
                    f"line {lines + 1} is longer than {limit} characters: no line break where "
                    "the format needs one (or the wrong delimiter or format)",
                )
    if partial:
        yield "".join(partial)
