"""Root conftest: every tier uses the kit's fixtures (real PostgreSQL, real broker)."""

pytest_plugins = ["ambiti_kit.testing.fixtures"]

import logging

# kafka-python logs every refused connection at ERROR: the broker-loss test causes them on purpose.
logging.getLogger("kafka").setLevel(logging.CRITICAL)
