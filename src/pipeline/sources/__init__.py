"""The source registry (`sources.toml`) and one reader per kind of source."""

from pipeline.sources.documents import Document, read_documents
from pipeline.sources.registry import Registry, RegistryError, load_registry

__all__ = ["Document", "Registry", "RegistryError", "load_registry", "read_documents"]
