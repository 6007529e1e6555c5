"""What a step knows that the trail must hold besides its outputs: a step's audit notes.

A step returns its records and its notes (`Effects`). The one audit function
(`hub.audit.steps.outcome_facts`) turns the records into `published`/`delivered` facts once the
broker has stored them, and asks each note for the facts only the step knew: a refusal and its
reason, an accepted receipt, or what to add to the record of one of its outputs (the retired
place a delivery was redirected from). A step's module says what its notes mean; the audit
module never needs to know the step.
"""

from __future__ import annotations

from hub.pipeline.records import Position
from schemas.audit import AuditFacts, Where

__all__ = ["AuditNote", "where"]


class AuditNote:
    """Base of a step's notes. Both methods are asked once per note of an acknowledged input."""

    __slots__ = ()

    def fact(self, stage: str, position: Position) -> AuditFacts | None:
        """The note's own record about the input at `position`, if it is one."""
        return None

    def amend(self, fact: AuditFacts) -> AuditFacts:
        """The record of one of the input's outputs, with what only the step knew of it."""
        return fact


def where(position: Position) -> Where:
    """`position` as the trail writes it."""
    # Not validated again: a position is the broker's (a topic name, two counts).
    return Where.model_construct(
        topic=position.topic, partition=position.partition, offset=position.offset
    )
