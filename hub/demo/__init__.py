"""Demo material: bundled sample documents and a deterministic generator of synthetic traffic.

Every identity number here is synthetic (month + 80 or + 40): none can belong to a real person.
"""

__all__: list[str] = []
