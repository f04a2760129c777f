"""Error types that decide what happens next: retry the task, or quarantine the input and go on."""

__all__ = ["PermanentError", "PipelineError", "StorageError", "TransientError"]


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class TransientError(PipelineError):
    """A failure worth retrying: the network, the object store, a busy server."""


class PermanentError(PipelineError):
    """Bad input that will fail the same way on every retry: quarantine it and go on."""


class StorageError(TransientError):
    """The object store failed or is unreachable: the whole task should fail and be retried."""
