"""The pure parts of webhooks and the feed: targets (SSRF), secrets, backoff, cursors."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from ambiti_kit.errors import RuleViolation
from ambiti_kit.incarnations import Incarnations
from ambiti_kit.webhooks import backoff_seconds, check_target, new_secret, valid_secrets


def resolving(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    """Name resolution as a DNS server would answer (the guard must look at every address)."""
    def getaddrinfo(host, port, *args, **kwargs):  # noqa: ANN001
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.10", "169.254.169.254",
                                     "::1", "fe80::1", "fd00::1", "100.64.0.1", "0.0.0.0", "::ffff:10.0.0.1",
                                     "224.0.0.1"])
def test_production_refuses_private_loopback_link_local_and_reserved_targets(monkeypatch, address: str) -> None:
    resolving(monkeypatch, "93.184.215.14", address)  # one bad address among good ones is enough
    with pytest.raises(RuleViolation) as refused:
        check_target("https://ricevente.example.it/hook", production=True)
    assert refused.value.rule == "url.indirizzo_privato" and refused.value.field == "url"


def test_production_accepts_https_to_public_addresses_only(monkeypatch) -> None:
    resolving(monkeypatch, "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    check_target("https://ricevente.example.it/hook", production=True)
    with pytest.raises(RuleViolation, match="https"):
        check_target("http://ricevente.example.it/hook", production=True)


def test_development_allows_local_receivers_but_never_credentials_or_other_schemes() -> None:
    check_target("http://127.0.0.1:9000/hook", production=False)
    for url, rule in (("ftp://x/y", "url.schema"), ("https://u:p@x.example/", "url.credenziali"),
                      ("https:///senza-host", "url.schema")):
        with pytest.raises(RuleViolation) as refused:
            check_target(url, production=False)
        assert refused.value.rule == rule


def test_secrets_are_standard_webhooks_secrets_and_expire() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) > 30 and new_secret() != secret
    now = datetime.now(timezone.utc)
    stored = [{"segreto": "nuovo", "valido_fino": None},
              {"segreto": "vecchio", "valido_fino": (now + timedelta(hours=1)).isoformat()},
              {"segreto": "scaduto", "valido_fino": (now - timedelta(seconds=1)).isoformat()}]
    assert valid_secrets(stored, now) == ["nuovo", "vecchio"]


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.01, max_value=10), st.floats(min_value=1, max_value=7200))
def test_backoff_is_full_jitter_below_its_exponential_bound(failures: int, base: float, cap: float) -> None:
    assert 0 <= backoff_seconds(failures, base, cap) <= min(cap, base * 2 ** (failures - 1))


class _Known(Incarnations):
    def __init__(self, later: list[tuple[int, str]]) -> None:
        self._later = later

    def forget(self) -> None:
        pass


def test_a_cursor_past_a_restore_point_resumes_from_it() -> None:
    first, second = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
    incarnations = _Known([(100, first), (80, second)])  # restored at 100, then again at 80
    # 81–100 of the first incarnation were lost in the second restore: 90 now belongs to the second
    assert incarnations.cursor(50) == "50" and incarnations.cursor(90) == f"90~{second}"
    assert incarnations.cursor(101) == f"101~{second}"
    assert incarnations.resume_after(90, first) == 80          # what it read at 90 was lost
    assert incarnations.resume_after(50, None) == 50           # before any restore point: as it is
    assert incarnations.resume_after(120, None) == 80          # read past both restores without seeing them
    assert incarnations.resume_after(120, first) == 80         # saw the first incarnation, not the second
    assert incarnations.resume_after(120, second) == 120       # up to date
