"""The tests' object storage: settings for a private SeaweedFS, a new bucket on a shared one, bucket copies."""

from __future__ import annotations

import uuid
from pathlib import Path

from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.ports import on_free_ports


def embedded_settings(local_dir: Path, bucket: str = "news") -> Settings:
    """Settings for a SeaweedFS of its own under `local_dir`, on free ports."""
    return on_free_ports(Settings(bucket=bucket), local_dir)


def new_bucket(server: Settings, folder: Path) -> Settings:
    """`server`'s settings with a new, empty bucket on it and a sources file (not yet written) in `folder`."""
    bucket = "t-" + uuid.uuid4().hex[:12]
    ObjectStore.from_settings(server.model_copy(update={"bucket": bucket})).ensure_bucket()
    return server.model_copy(update={"bucket": bucket, "sources_file": folder / "sources.toml"})


def copy_bucket(source: ObjectStore, target: ObjectStore) -> None:
    """Every object of `source` into `target`, with its content type and metadata."""
    for key in source.list_keys(""):
        stored = source.get_object(key)
        target.put_bytes(key, stored.data, stored.content_type, stored.metadata)
