"""Reader for `documents` sources: seed-format `.txt` files in a local folder or an S3 prefix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import PipelineError
from pipeline.models import Source
from pipeline.storage.keys import INBOX_PROCESSED

if TYPE_CHECKING:
    from pipeline.storage.store import ObjectStore

__all__ = ["Document", "read_documents"]


@dataclass(frozen=True)
class Document:
    name: str
    data: bytes  # empty when the document is over the size cap: it is never read into memory
    size: int
    key: str | None = None  # for documents in the bucket

    def too_large(self, max_bytes: int) -> bool:
        return self.size > max_bytes


def read_documents(source: Source, base_dir: Path, store: ObjectStore | None, max_bytes: int) -> Iterator[Document]:
    """Yield every `.txt` document of the source in name order, reading only those within `max_bytes`."""
    assert source.path is not None
    if source.path.startswith("s3://"):
        if store is None:
            raise PipelineError(f"source {source.id!r} reads {source.path}: no object store configured")
        bucket, _, prefix = source.path.removeprefix("s3://").partition("/")
        other = store if bucket == store.bucket else store.with_bucket(bucket)
        for key, size in other.list_objects(prefix):
            name = key.removeprefix(prefix).lstrip("/")
            if name.endswith(".txt") and not name.startswith(INBOX_PROCESSED):
                yield Document(name, other.get_bytes(key) if size <= max_bytes else b"", size, key)
        return
    folder = Path(source.path)
    if not folder.is_absolute():
        folder = base_dir / folder
    if not folder.is_dir():
        raise FileNotFoundError(f"documents folder of source {source.id!r} not found: {folder}")
    for path in sorted(folder.glob("*.txt")):
        size = path.stat().st_size
        yield Document(path.name, path.read_bytes() if size <= max_bytes else b"", size)
