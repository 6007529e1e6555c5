"""Documents for tests that are not bundled with the product."""

__all__: list[str] = []
