"""Canonical contracts of the hub: the events, their JSON Schemas, the source formats' XSDs.

Depends on nothing else of the project; publishers and recipients can build against it alone.
"""

__all__: list[str] = []
