"""HTTP content codings (gzip, deflate, br, zstd, stacked) decoded with their output capped as it is produced."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator

import brotli
import zstandard

from pipeline.errors import PermanentError

__all__ = ["ACCEPT_ENCODING", "DecodedTooLargeError", "decode_body"]

# Only codings whose decoders here bound their output; a server sending another one is refused.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
MAX_LAYERS = 3  # `gzip, gzip` is legal; a dozen layers is an attack
_CHUNK = 256 * 1024


class DecodedTooLargeError(PermanentError):
    """The decoded body would exceed the size cap."""


def _zlib_chunks(data: bytes | bytearray, wbits: int) -> Iterator[bytes]:
    """Decompress (possibly several concatenated members), at most `_CHUNK` bytes out per step."""
    while data:
        decoder = zlib.decompressobj(wbits)
        pending = data
        while pending and not decoder.eof:
            yield decoder.decompress(pending, _CHUNK)
            pending = decoder.unconsumed_tail
        while not decoder.eof and (out := decoder.decompress(b"", _CHUNK)):
            yield out
        if not decoder.eof:
            return  # truncated: keep what was decoded, as browsers (and httpx) do
        data = decoder.unused_data


def _gzip(data: bytes | bytearray) -> Iterator[bytes]:
    return _zlib_chunks(data, 16 + zlib.MAX_WBITS)


def _deflate(data: bytes | bytearray) -> Iterator[bytes]:
    # "deflate" means zlib-wrapped by the RFC, but many servers send raw deflate.
    wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and int.from_bytes(data[:2], "big") % 31 == 0
    return _zlib_chunks(data, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)


def _br(data: bytes | bytearray) -> Iterator[bytes]:
    decoder = brotli.Decompressor()
    yield decoder.process(data, output_buffer_limit=_CHUNK)
    while not decoder.is_finished():
        out = decoder.process(b"", output_buffer_limit=_CHUNK)
        if not out and decoder.can_accept_more_data():
            return  # truncated: keep what was decoded
        yield out


def _zstd(data: bytes | bytearray) -> Iterator[bytes]:
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True) as reader:
        while out := reader.read(_CHUNK):
            yield out


_DECODERS: dict[str, Callable[[bytes | bytearray], Iterator[bytes]]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _br,
    "zstd": _zstd,
}


def _codings(content_encoding: str) -> list[str]:
    return [c for c in (part.strip().lower() for part in content_encoding.split(",")) if c and c != "identity"]


def decode_body(data: bytes | bytearray, content_encoding: str | None, max_bytes: int) -> bytes:
    """Undo each coding of `Content-Encoding` in reverse order; refuse as soon as any layer's output passes
    `max_bytes`, so a small bomb never costs more memory than the cap."""
    codings = _codings(content_encoding or "")
    if len(codings) > MAX_LAYERS:
        raise PermanentError(f"refused: {len(codings)} content codings stacked (at most {MAX_LAYERS})")
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise PermanentError(f"refused: unsupported content coding {coding!r}")
        out = bytearray()
        try:
            for chunk in decoder(data):
                out += chunk
                if len(out) > max_bytes:
                    raise DecodedTooLargeError(f"body exceeds {max_bytes} bytes once decoded ({coding})")
        except (zlib.error, brotli.error, zstandard.ZstdError) as exc:
            raise PermanentError(f"body is not valid {coding}: {exc}") from None
        data = out
    return bytes(data)
