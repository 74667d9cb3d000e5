"""Monitoring's domain: services delivered and indicators (its store is ready for them)."""
