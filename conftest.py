"""Root conftest: every tier uses the kit's fixtures (real PostgreSQL, real broker)."""

pytest_plugins = ["ambiti_kit.testing.fixtures"]
