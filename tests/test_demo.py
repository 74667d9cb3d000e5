"""`ambiti seed-demo` against the running platform: a real Ambito, visible in monitoring and to its Region."""

from __future__ import annotations

import json

import httpx

from ambiti_cli.demo import DATA, seed_demo, tenant_id
from ambiti_kit.testing.fixtures import Platform, wait_until


def test_seed_demo_registers_s09_sapri_with_its_comuni_and_plan_and_is_idempotent(platform: Platform) -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    tenant = tenant_id(data)
    assert tenant == "15-S09" and len(data["comuni"]) == 17
    urls = {"planning_url": platform.url("planning"), "monitoring_url": platform.url("monitoring")}
    assert seed_demo(**urls) == 0
    assert seed_demo(**urls) == 0  # a second run adds nothing

    auth = platform.infra.auth(tenant, "coordinatore")
    ambito = httpx.get(f"{platform.url('planning')}/ambito", headers=auth).json()
    assert ambito["versione"] == 1 and ambito["capofila_istat"] == "065134"
    assert ambito["popolazione"] == sum(c["popolazione"] for c in data["comuni"])
    comitato = httpx.get(f"{platform.url('planning')}/comitato", headers=auth).json()
    assert comitato["versione"] == 1 and len(comitato["componenti"]) == 18  # 17 mayors and the ASL
    assert comitato["regola"]["famiglia"] == "ponderata"

    comuni = wait_until(lambda: (r := httpx.get(f"{platform.url('monitoring')}/ambito/comuni",
                                                headers=auth)).status_code == 200 and r.json(),
                        message="the Comuni in monitoring")
    assert {c["istat"] for c in comuni["comuni"]} == {c["istat"] for c in data["comuni"]}
    assert [c["nome"] for c in comuni["comuni"] if c["capofila"]] == ["Sapri"]

    campania = platform.infra.auth(None, "regione", regione="15")
    vista = wait_until(lambda: [a for a in httpx.get(f"{platform.url('monitoring')}/regione/piani",
                                                     headers=campania).json()["ambiti"]
                                if a["ambito"] == tenant and a["nome"]], message="S09 in the regional view")
    assert vista[0]["nome"] == data["ambito"]["nome"] and vista[0]["popolazione"] == ambito["popolazione"]
