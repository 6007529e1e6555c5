"""Documents for tests that are not bundled with the product."""
