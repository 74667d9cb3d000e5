"""Migrate one service's store as its owner role, then exit: `python -m ambiti_kit.migrate planning.main:app`.

For deployments where the service itself holds no owner credentials (``AMBITI_DB_MIGRATIONS=external``):
an init container runs this with ``AMBITI_DATABASE_OWNER_URL`` (the owner) and ``DATABASE_URL`` (the
runtime role to grant rows to), and the service then starts without the right to any DDL. The service is
named by its FastAPI app, as uvicorn names it: what it declares (application, tables) is read from it.
"""

from __future__ import annotations

import importlib
import sys

from ambiti_kit.eventstore import migrate


def main(argv: list[str]) -> int:
    if len(argv) != 1 or ":" not in argv[0]:
        print("uso: python -m ambiti_kit.migrate <modulo>:<app>   (es. planning.main:app)", file=sys.stderr)
        return 2
    module, _, name = argv[0].partition(":")
    api = getattr(importlib.import_module(module), name)
    settings, (application, schema) = api.state.settings, api.state.store
    migrate(settings, application, schema)
    print(f"{settings.service}: schema {settings.db_schema} migrato")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
