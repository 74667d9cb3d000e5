"""The monitoring application. Its read models are filled from other services' events."""

from __future__ import annotations

from ambiti_kit.tenancy import TenantApplication


class Monitoring(TenantApplication):
    name = "monitoring"
