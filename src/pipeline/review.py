"""An editor's answer to the review of the e-mailed digest, and what it means. Light: DAG parsing imports it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["APPROVE", "DROP", "REJECT", "Review", "read_review"]

APPROVE = "Approve"
REJECT = "Reject"
DROP = "Drop: "  # the option of each top story starts with it


@dataclass(frozen=True)
class Review:
    """An editor's answer: send (without the dropped stories) or not, and why."""

    approved: bool
    dropped: list[str] = field(default_factory=list)  # story ids
    note: str = ""


def read_review(chosen: Sequence[str], choices: Mapping[str, str], note: str = "") -> Review:
    """What the chosen options mean: Reject wins over anything else; otherwise send without the dropped stories.

    A label not in `choices` raises `ValueError`: a story the editor dropped must never be sent unnoticed.
    """
    if REJECT in chosen:
        return Review(approved=False, note=note)
    unknown = [c for c in chosen if c != APPROVE and c not in choices]
    if unknown:
        raise ValueError(f"options not offered for this digest: {unknown}")
    return Review(approved=True, dropped=[choices[c] for c in chosen if c != APPROVE], note=note)
