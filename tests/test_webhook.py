"""Webhooks per the Standard Webhooks specification, received by a server this test starts.

Every delivery is verified with the reference library ``standardwebhooks`` (not our code). The receiver
is stopped for a while and started again: nothing is lost, each Piano's events arrive in order, a
retried event keeps its ``webhook-id``; another Ambito's events never reach this Ambito's receiver; a
rotated secret and the previous one both verify during the grace period; a receiver that keeps failing
pauses the subscription, which resumes from the event it had not delivered.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from ambiti_kit.testing.fixtures import Infra, Platform, free_port, start_platform, wait_until
from tests.conftest import S09

A, B = "15-WHK1", "16-WHK2"


class Receiver:
    """An integrator's endpoint: verifies each delivery with its secrets, answers 204 (or ``status``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.secrets: list[str] = []
        self.received: list[tuple[str, dict]] = []  # (webhook-id, event), verified, in arrival order
        self.refused: list[str] = []
        self.status = 204
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k: v for k, v in self.headers.items()}
                verified = None
                for secret in receiver.secrets:
                    try:
                        verified = Webhook(secret).verify(body, headers)
                        break
                    except Exception as exc:  # noqa: BLE001
                        error = repr(exc)
                if verified is None:
                    receiver.refused.append(error)
                    self.send_response(400)
                elif receiver.status >= 300:
                    self.send_response(receiver.status)
                else:
                    receiver.received.append((headers["webhook-id"], verified))
                    self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def ids(self) -> set[str]:
        return {i for i, _ in self.received}


@pytest.fixture(scope="module")
def planning(infra: Infra) -> Platform:
    ns = replace(infra, namespace=f"{infra.namespace}whk_")
    platform = start_platform(ns, names=("planning",), log_tag="webhook", AMBITI_WEBHOOK_BACKOFF_BASE="0.2",
                              AMBITI_WEBHOOK_BACKOFF_MAX="1", AMBITI_WEBHOOK_MAX_FAILURES="6")
    yield platform
    platform.stop()


def test_deliveries_are_signed_complete_in_order_and_for_one_ambito(planning: Platform) -> None:
    ns, url = planning.infra, planning.url("planning")
    coord = {t: ns.auth(t, "coordinatore") for t in (A, B)}
    integr = ns.auth(A, "integratore")
    mine, theirs = Receiver(), Receiver()
    mine.start()
    theirs.start()

    def subscribe(tenant: str, receiver: Receiver, auth: dict) -> dict:
        r = httpx.post(f"{url}/webhook/sottoscrizioni", headers=auth, json={"url": receiver.url, "da": "inizio"})
        assert r.status_code == 201, r.text
        sub = r.json()
        receiver.secrets = [sub["segreto"]]
        assert sub["segreto"].startswith("whsec_") and sub["stato"] == "attiva"
        return sub

    sub = subscribe(A, mine, integr)
    other = subscribe(B, theirs, coord[B])
    for tenant in (A, B):
        r = httpx.put(f"{url}/ambito", headers=coord[tenant], timeout=30, json={
            "nome": f"Ambito {tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
            "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
        assert r.status_code in (200, 201), r.text

    piani: dict[str, list[str]] = {}
    n = 0

    def write(tenant: str, anno: int, rounds: int) -> str:
        nonlocal n
        r = httpx.post(f"{url}/piani", headers=coord[tenant], timeout=30,
                       json={"titolo": f"Piano {anno}", "anno_inizio": anno, "anno_fine": anno + 2})
        assert r.status_code == 201, r.text
        piano = r.json()["id"]
        for _ in range(rounds):
            n += 1
            r = httpx.put(f"{url}/piani/{piano}/versioni/1/contenuto", headers=coord[tenant], timeout=30,
                          json={"aree": [{"codice": "A", "titolo": f"Area {n}", "obiettivi": []}]})
            assert r.status_code == 200, r.text
        piani.setdefault(tenant, []).append(piano)
        return piano

    write(A, 2025, 3)
    write(B, 2025, 2)
    wait_until(lambda: len(mine.received) >= 4, timeout=60, message="A's first four events delivered")

    mine.stop()  # the integrator's server goes away for a while; writes go on
    write(A, 2028, 4)
    wait_until(lambda: httpx.get(f"{url}/webhook/sottoscrizioni/{sub['id']}", headers=integr).json()["fallimenti"] >= 2,
               timeout=60, message="failed attempts while the receiver is down")
    mine.start()
    write(A, 2031, 2)

    feed = httpx.get(f"{url}/eventi", headers=integr, params={"quanti": 500}).json()["eventi"]
    assert len(feed) == 1 + 3 * 1 + 3 + 4 + 2  # the composition, three Piani created, their contents
    wait_until(lambda: {e["id"] for e in feed} <= mine.ids(), timeout=60, message="every event of A delivered")
    assert not mine.refused  # every delivery verified by the reference library

    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for webhook_id, event in mine.received:
        assert webhook_id == event["id"] and event["tenantid"] == A
        by_aggregate[event["subject"]].append(int(event["sequence"]))
    for subject, sequences in by_aggregate.items():  # in order per Piano, duplicates (if any) only repeated
        firsts = list(dict.fromkeys(sequences))
        assert firsts == sorted(firsts), subject
    assert set(by_aggregate) - set(piani[A]) == {feed[0]["subject"]}  # and the Ambito's composition
    assert not any(e["tenantid"] == A for _, e in theirs.received)
    wait_until(lambda: len({i for i, _ in theirs.received}) == 4, timeout=60, message="B's events to B's receiver")

    log = httpx.get(f"{url}/webhook/sottoscrizioni/{sub['id']}/consegne", headers=integr,
                    params={"quanti": 500}).json()
    failed = [d for d in log if d["esito"] == "fallito"]
    assert failed and all(d["stato_http"] is None for d in failed)  # connection refused while it was down
    retried = {d["webhook_id"] for d in failed}
    assert retried <= {d["webhook_id"] for d in log if d["esito"] == "consegnato"}  # same id on the retry
    state = httpx.get(f"{url}/webhook/sottoscrizioni/{sub['id']}", headers=integr).json()
    assert state["fallimenti"] == 0 and state["in_attesa"] == 0 and state["stato"] == "attiva"

    metrics = httpx.get(f"{url}/metrics").text  # the operator sees deliveries, failures and subscriptions
    assert 'ambiti_webhook_subscriptions{service="planning",stato="attiva"} 2.0' in metrics
    assert "ambiti_webhook_deliveries_total" in metrics and "ambiti_webhook_failures_total" in metrics

    # another Ambito's subscription is invisible
    assert httpx.get(f"{url}/webhook/sottoscrizioni/{other['id']}", headers=integr).status_code == 404
    assert httpx.post(f"{url}/webhook/sottoscrizioni/{other['id']}/riprendi", headers=integr).status_code == 404
    assert [s["id"] for s in httpx.get(f"{url}/webhook/sottoscrizioni", headers=integr).json()] == [sub["id"]]

    # rotation: the new secret and the old one both verify during the grace period
    rotated = httpx.post(f"{url}/webhook/sottoscrizioni/{sub['id']}/segreti", headers=integr,
                         json={"vecchio_valido_per_ore": 1}).json()
    assert rotated["segreti_validi"] == 2
    old_only, new_only = Receiver(), Receiver()
    for receiver, secrets in ((old_only, mine.secrets), (new_only, [rotated["segreto"]])):
        receiver.secrets = secrets
        receiver.start()
    for receiver in (old_only, new_only):
        httpx.patch(f"{url}/webhook/sottoscrizioni/{sub['id']}", headers=integr, json={"url": receiver.url})
        before = len(receiver.received)
        write(A, 2034 + 3 * (receiver is new_only), 0)
        wait_until(lambda: len(receiver.received) > before, timeout=60, message="a delivery after the rotation")
        assert not receiver.refused

    # replay of a range: the same webhook-ids again
    first, last = int(feed[0]["sequence"]), int(feed[2]["sequence"])
    httpx.post(f"{url}/webhook/sottoscrizioni/{sub['id']}/riproduci", headers=integr, json={"da": first, "a": last})
    wait_until(lambda: {e["id"] for e in feed[:3]} <= new_only.ids(), timeout=60, message="the replayed range")

    # a receiver that keeps failing pauses the subscription; resumed, it delivers from where it stopped
    new_only.status = 500
    write(A, 2040, 0)
    wait_until(lambda: httpx.get(f"{url}/webhook/sottoscrizioni/{sub['id']}", headers=integr).json()["stato"] == "sospesa",
               timeout=60, message="the subscription paused after repeated failures")
    paused = httpx.get(f"{url}/webhook/sottoscrizioni/{sub['id']}", headers=integr).json()
    assert "sospesa dopo 6 consegne fallite" in paused["motivo"] and paused["in_attesa"] >= 1
    new_only.status = 204
    httpx.post(f"{url}/webhook/sottoscrizioni/{sub['id']}/riprendi", headers=integr)
    wait_until(lambda: any(e["subject"] == piani[A][-1] for _, e in new_only.received), timeout=60,
               message="the paused event delivered after resuming")

    # bad input: named fields, nothing stored
    for body, field in (({"url": "ftp://x"}, "url"), ({"url": mine.url, "tipi": ["nessuno"]}, "tipi"),
                        ({"url": mine.url, "extra": 1}, "extra"), ({"url": "http://u:p@x/"}, "url")):
        r = httpx.post(f"{url}/webhook/sottoscrizioni", headers=integr, json=body)
        assert r.status_code == 422 and field in r.text, r.text
    assert len(httpx.get(f"{url}/webhook/sottoscrizioni", headers=integr).json()) == 1
    assert httpx.get(f"{url}/webhook/sottoscrizioni", headers=ns.auth(A, "assistente_sociale")).status_code == 403
    for receiver in (mine, theirs, old_only, new_only):
        receiver.stop()
