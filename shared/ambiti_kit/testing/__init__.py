"""Test helpers of the platform (fixtures for real PostgreSQL and a real broker)."""
