"""Error types that decide what happens next: retry the task, quarantine the input and go on, or stop."""

__all__ = [
    "ConfigError",
    "ObjectNotFound",
    "PermanentError",
    "PipelineError",
    "PreconditionFailed",
    "StorageError",
    "TransientError",
    "TransientStorageError",
    "describe",
]


def describe(exc: BaseException, limit: int = 1000) -> str:
    """What a quarantine record or a failure says: the pipeline's own message, else the exception's type and text."""
    return (str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {exc}")[:limit]


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class TransientError(PipelineError):
    """A failure worth retrying: the network, the object store, a busy server."""


class PermanentError(PipelineError):
    """Bad input that will fail the same way on every retry: quarantine it and go on."""


class ConfigError(PipelineError):
    """A setting or the sources file is wrong: stop and say which; retrying cannot help."""


class StorageError(PipelineError):
    """An object store call failed; a stage lets it through so the whole task fails."""


class TransientStorageError(StorageError, TransientError):
    """The object store is unreachable, failing or busy, or concurrent writers kept racing: retry the task."""


class ObjectNotFound(StorageError):
    """No such key (or bucket): asking again will not make it appear."""


class PreconditionFailed(StorageError):
    """A conditional write lost: the object exists already, or changed since it was read."""
