"""Root conftest: every tier uses the kit's fixtures (real PostgreSQL, real broker)."""

import os

# Services default to production (which refuses the development secret); the tests run as "test".
os.environ.setdefault("AMBITI_ENVIRONMENT", "test")

pytest_plugins = ["ambiti_kit.testing.fixtures"]

import logging

# kafka-python logs every refused connection at ERROR: the broker-loss test causes them on purpose.
logging.getLogger("kafka").setLevel(logging.CRITICAL)
