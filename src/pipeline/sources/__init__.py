"""The source registry (`sources.toml`) and one reader per kind of source."""

from pipeline.sources.documents import Document, read_documents
from pipeline.sources.registry import INBOX_ID, Registry, RegistryError, load_registry, load_sources

__all__ = ["INBOX_ID", "Document", "Registry", "RegistryError", "load_registry", "load_sources", "read_documents"]
