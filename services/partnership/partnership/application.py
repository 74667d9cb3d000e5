"""The partnership application (its store, relay and audit chain run; its domain comes next)."""

from __future__ import annotations

from ambiti_kit.tenancy import TenantApplication


class Partnership(TenantApplication):
    name = "partnership"
