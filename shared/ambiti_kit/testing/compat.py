"""Is a changed event schema still the version it claims to be? A check of breaking changes.

A published schema version is a promise to consumers (contracts/README.md, "Versioning"): every event
they receive under it is valid against what was published, except for fields they do not know (which
they ignore). So, from the published schema to the current one, these break the promise and need a new
version (``.v2``): a field removed or renamed; a field no longer required; a type changed; a ``const``,
``format`` or ``pattern`` changed or dropped; an ``enum`` that accepts new values (or no longer lists
them); a limit relaxed (``maxLength``, ``maximum``, ``maxItems`` raised or dropped, their ``min``
counterparts lowered or dropped); the ``$id`` changed. Adding an optional field, tightening a limit,
describing better are not breaking.

``contracts/published.lock.json`` holds every schema as last published; ``make contracts-publish``
(this module with ``--publish``) records new schemas and compatible changes, and refuses breaking ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
LOCK = CONTRACTS / "published.lock.json"
UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in ``new`` breaks the promise ``old`` made (Italian, each naming the field); empty if nothing."""
    problems: list[str] = []
    if old.get("$id") != new.get("$id"):
        problems.append(f"$id cambiato: {old.get('$id')} → {new.get('$id')}")
    _compare(old, new, "", problems, old, new)
    return problems


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        schema = target
    return schema


def _types(schema: dict[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    return None if kind is None else ({kind} if isinstance(kind, str) else set(kind))


def _compare(old: Any, new: Any, where: str, problems: list[str], old_root: dict, new_root: dict) -> None:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    at = where or "(radice)"
    old_types, new_types = _types(old), _types(new)
    if old_types is not None and (new_types is None or not new_types <= old_types):
        problems.append(f"{at}: tipo {sorted(old_types)} → {sorted(new_types) if new_types else 'qualsiasi'}")
    for key in ("const", "format", "pattern"):
        if key in old and old[key] != new.get(key):
            problems.append(f"{at}: {key} {old[key]!r} → {new.get(key)!r}")
    if "enum" in old:
        added = [v for v in new.get("enum", ["(qualsiasi valore)"]) if v not in old["enum"]]
        if added:
            problems.append(f"{at}: enum accetta valori nuovi {added}")
    for key in UPPER:
        if key in old and (key not in new or new[key] > old[key]):
            problems.append(f"{at}: {key} {old[key]} → {new.get(key, 'nessuno')}")
    for key in LOWER:
        if key in old and (key not in new or new[key] < old[key]):
            problems.append(f"{at}: {key} {old[key]} → {new.get(key, 'nessuno')}")
    no_longer_required = set(old.get("required", [])) - set(new.get("required", []))
    for name in sorted(no_longer_required):
        problems.append(f"{where}/{name}: non è più obbligatorio")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"{where}/{name}: campo tolto")
        else:
            _compare(schema, new_props[name], f"{where}/{name}", problems, old_root, new_root)
    if "items" in old and "items" in new:
        _compare(old["items"], new["items"], f"{where}[]", problems, old_root, new_root)
    for key in ("oneOf", "anyOf", "allOf"):
        if key in old:
            if len(new.get(key, [])) != len(old[key]):
                problems.append(f"{at}: {key} con alternative diverse")
            else:
                for i, (a, b) in enumerate(zip(old[key], new[key])):
                    _compare(a, b, f"{where}<{key}{i}>", problems, old_root, new_root)


def current_schemas() -> dict[str, dict[str, Any]]:
    return {str(p.relative_to(CONTRACTS)): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(CONTRACTS.rglob("*.schema.json"))}


def published() -> dict[str, dict[str, Any]]:
    return json.loads(LOCK.read_text(encoding="utf-8")) if LOCK.is_file() else {}


def publish() -> int:
    """Record the current schemas as published, unless one breaks its published version."""
    lock, current = published(), current_schemas()
    refused = {path: problems for path in lock if (problems := breaking_changes(lock[path], current[path])
                                                   if path in current else ["schema tolto"])}
    if refused:
        for path, problems in refused.items():
            print(f"{path}: cambiamento incompatibile, serve una nuova versione (.v2):", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
        return 1
    LOCK.write_text(json.dumps(current, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(current)} schemi registrati come pubblicati ({len(set(current) - set(lock))} nuovi)")
    return 0


if __name__ == "__main__":
    sys.exit(publish() if sys.argv[1:] == ["--publish"] else 2)
