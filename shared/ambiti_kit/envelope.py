"""The CloudEvents 1.0 envelope of integration events on Kafka (binary content mode).

Attributes travel as headers ``ce_<name>``; the value is the JSON of ``data``. Besides
the required attributes every message carries the extensions ``tenantid`` (the Ambito)
and ``sequence`` (the producing service's notification id: the position consumers
dedupe by, since Kafka offsets are not stable across a broker that lost its data).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SPECVERSION = "1.0"
#: the base the files in contracts/ are written with; AMBITI_CONTRACTS_BASE_URL replaces it where served
CANONICAL_CONTRACTS = "https://contracts.ambiti.example"
#: extension (header ``ce_incarnation``) of the events of a store restored from a backup: from its
#: restore point on, positions (``ce_sequence``) are counted anew within that incarnation
INCARNATION = "incarnation"
_NS = uuid.UUID("0b8f4c1e-4d0a-5e3e-8f53-3c8b1f2a9d77")


def contracts_base() -> str:
    """Where the contracts are served (``AMBITI_CONTRACTS_BASE_URL``), or the canonical base."""
    return (os.environ.get("AMBITI_CONTRACTS_BASE_URL") or CANONICAL_CONTRACTS).rstrip("/")


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    subject: str
    tenantid: str
    sequence: int
    time: datetime
    data: dict[str, Any]
    dataschema: str
    id: str = ""
    key: str = ""
    extensions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            # Stable across re-publication (a relay that republishes after a broker loss
            # sends the same ids), so integrators can dedupe on ce_id alone. Events of a later
            # incarnation of the store (restored from a backup: positions reused) name it.
            incarnation = self.extensions.get(INCARNATION)
            basis = f"{self.source}/{incarnation}/{self.sequence}" if incarnation else f"{self.source}/{self.sequence}"
            object.__setattr__(self, "id", str(uuid.uuid5(_NS, basis)))
        if not self.key:
            object.__setattr__(self, "key", self.subject)

    def producer_log(self, producer: str) -> str:
        """The log ``ce_sequence`` counts in: the producer's, or its later incarnation's (``planning@<id>``)."""
        incarnation = self.extensions.get(INCARNATION)
        return f"{producer}@{incarnation}" if incarnation else producer

    @classmethod
    def of(cls, domain_event: Any, notification: Any, *, type: str, source: str, schemas: str,
           data: dict[str, Any]) -> "CloudEvent":
        """The integration event of a stored domain event (subject, tenant, position, time from it)."""
        return cls(type=type, source=source, subject=str(domain_event.originator_id),
                   tenantid=domain_event.tenant_id, sequence=notification.id, time=domain_event.timestamp,
                   dataschema=f"{schemas}/{type}.v1.schema.json".replace(CANONICAL_CONTRACTS, contracts_base()),
                   data=data)

    def to_kafka(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """(key, value, headers) for a producer."""
        headers = {
            "ce_specversion": SPECVERSION,
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            "ce_dataschema": self.dataschema,
            "ce_tenantid": self.tenantid,
            "ce_sequence": str(self.sequence),
            "content-type": "application/json",
            **{f"ce_{k}": v for k, v in self.extensions.items()},
        }
        value = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        return (self.key.encode(), value.encode(), [(k, v.encode()) for k, v in headers.items()])

    @classmethod
    def from_kafka(cls, headers: list[tuple[str, bytes]], value: bytes, key: bytes | None = None) -> "CloudEvent":
        """Parse a message; raises ``ValueError`` when it is not one of ours."""
        attrs = {k: v.decode() for k, v in headers if k.startswith("ce_")}
        try:
            known = {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_subject", "ce_time",
                     "ce_dataschema", "ce_tenantid", "ce_sequence"}
            return cls(
                id=attrs["ce_id"], type=attrs["ce_type"], source=attrs["ce_source"],
                subject=attrs.get("ce_subject", ""), tenantid=attrs["ce_tenantid"],
                sequence=int(attrs["ce_sequence"]), time=datetime.fromisoformat(attrs["ce_time"]),
                dataschema=attrs.get("ce_dataschema", ""), data=json.loads(value),
                key=(key or b"").decode(),
                extensions={k[3:]: v for k, v in attrs.items() if k not in known},
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"not a CloudEvent of this platform: {exc!r}") from exc

    def as_structured(self) -> dict[str, Any]:
        """The structured-mode JSON form (what contracts/ examples show)."""
        return {
            "specversion": SPECVERSION, "id": self.id, "type": self.type, "source": self.source,
            "subject": self.subject, "time": self.time.isoformat(), "dataschema": self.dataschema,
            "datacontenttype": "application/json", "tenantid": self.tenantid,
            "sequence": str(self.sequence), **self.extensions, "data": self.data,
        }
