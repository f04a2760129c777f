"""Where items come from: the registry (`sources.toml`), document folders, the inbox, fetch state and checks."""

from pipeline.sources.documents import Document, read_documents
from pipeline.sources.inbox import INBOX_ID
from pipeline.sources.registry import Registry, RegistryError, load_registry, load_sources

__all__ = ["INBOX_ID", "Document", "Registry", "RegistryError", "load_registry", "load_sources", "read_documents"]
