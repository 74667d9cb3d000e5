"""Monitoring's domain: services delivered (``prestazioni``) and staff (``personale``)."""
