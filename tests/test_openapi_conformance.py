"""Each service's OpenAPI says exactly what its server does: schemathesis against the running processes.

For every operation of every service, schemathesis generates requests from the OpenAPI document
(valid and invalid, a fixed seed, a bounded number per operation), sends them with a real token of an
Ambito's coordinatore to the service running as its own process on the real PostgreSQL and broker,
and fails on any 5xx, any status code the operation does not declare, any response whose body does not
match its declared schema or content type, and any declared response header missing.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)

from ambiti_kit.testing.fixtures import Platform

TENANT = "15-FUZZ"
EXAMPLES = int(os.environ.get("AMBITI_FUZZ_EXAMPLES", 8))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance,
          response_headers_conformance]


MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def conformance_failures(platform: Platform, service: str) -> list[str]:
    """Every operation, valid and invalid requests: the failures found (each named by operation)."""
    schema = schemathesis.openapi.from_url(f"{platform.url(service)}/openapi.json")
    headers = platform.infra.auth(TENANT, "coordinatore")
    failures: list[str] = []
    operations, calls = 0, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in MODES:
            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=platform.url(service), headers=headers, checks=CHECKS, timeout=30)

            try:
                check()
            except Unsatisfiable:
                continue  # nothing invalid can be generated for it (an operation without parameters)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, every operation is tried
                failures.append(f"{operation.label} [{mode}]: {str(exc)[:1500]}")
    assert operations > 10 and calls > 5 * operations, f"{service}: {operations} operations, {calls} requests"
    return failures


@pytest.mark.parametrize("service", ["planning", "finance", "partnership", "monitoring"])
def test_the_server_does_what_its_openapi_says(platform: Platform, service: str) -> None:
    failures = conformance_failures(platform, service)
    assert not failures, f"{len(failures)} operations of {service} do not conform:\n\n" + "\n\n".join(failures)
