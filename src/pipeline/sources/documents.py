"""Reader for `documents` sources: seed-format `.txt` files in a local folder or an S3 prefix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.inbox import PROCESSED
from pipeline.models import Source
from pipeline.storage import ObjectStore

__all__ = ["Document", "read_documents"]

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    name: str
    data: bytes
    key: str | None = None  # for documents in the bucket


def read_documents(source: Source, base_dir: Path, store: ObjectStore | None) -> Iterator[Document]:
    """Yield every `.txt` document of the source in name order."""
    assert source.path is not None
    if source.path.startswith("s3://"):
        if store is None:
            raise PipelineError(f"source {source.id!r} reads {source.path}: no object store configured")
        bucket, _, prefix = source.path.removeprefix("s3://").partition("/")
        other = store if bucket == store.bucket else store.with_bucket(bucket)
        for key in other.list_keys(prefix):
            name = key.removeprefix(prefix).lstrip("/")
            if name.endswith(".txt") and not name.startswith(PROCESSED):
                yield Document(name, other.get_bytes(key), key)
        return
    folder = Path(source.path)
    if not folder.is_absolute():
        folder = base_dir / folder
    if not folder.is_dir():
        raise FileNotFoundError(f"documents folder of source {source.id!r} not found: {folder}")
    for path in sorted(folder.glob("*.txt")):
        yield Document(path.name, path.read_bytes())
