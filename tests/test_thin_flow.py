"""The thin flow across processes: planning -> Kafka -> monitoring (tenant and Region) and finance."""

from __future__ import annotations

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

TENANT = "15-TF1"


def test_piano_drafted_in_planning_reaches_monitoring_the_region_and_finance(platform: Platform) -> None:
    infra = platform.infra
    coordinatore = infra.auth(TENANT, "coordinatore")
    created = httpx.post(f"{platform.url('planning')}/piani", headers=coordinatore, json={
        "titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027})
    assert created.status_code == 201, created.text
    piano = created.json()
    assert piano["stato"] == "bozza" and piano["ambito"] == TENANT
    assert created.headers["location"].endswith(f"/piani/{piano['id']}")

    # planning serves it from its event store
    again = httpx.get(f"{platform.url('planning')}/piani/{piano['id']}", headers=coordinatore)
    assert again.status_code == 200 and again.json()["titolo"] == "Piano Sociale di Zona 2025–2027"

    # monitoring projected it into the tenant's read model
    seen = wait_until(lambda: httpx.get(f"{platform.url('monitoring')}/piani/{piano['id']}",
                                        headers=coordinatore).status_code == 200, message="plan in monitoring")
    assert seen
    listed = httpx.get(f"{platform.url('monitoring')}/piani", headers=coordinatore).json()["elementi"]
    assert [p["id"] for p in listed] == [piano["id"]]

    # the Region sees a count per Ambito of its own Region, with freshness
    campania = infra.auth(None, "regione", regione="15")
    vista = httpx.get(f"{platform.url('monitoring')}/regione/piani", headers=campania).json()
    assert {"ambito": TENANT, "piani": 1} in [{k: a[k] for k in ("ambito", "piani")} for a in vista["ambiti"]]
    assert vista["aggiornato_al"] is not None
    lombardia = infra.auth(None, "regione", regione="03")
    assert httpx.get(f"{platform.url('monitoring')}/regione/piani", headers=lombardia).json()["ambiti"] == []

    # finance consumed the same event in its own group and opened the plan's budget
    amministrativo = infra.auth(TENANT, "amministrativo")
    budget = wait_until(lambda: (r := httpx.get(f"{platform.url('finance')}/budget/{piano['id']}",
                                                headers=amministrativo)).status_code == 200 and r.json(),
                        message="budget in finance")
    assert budget["piano_id"] == piano["id"] and budget["anno_inizio"] == 2025 and budget["righe"] == []

    # both consumers applied it once; partnership runs with its store and relay
    for name in ("finance", "monitoring"):
        health = httpx.get(f"{platform.url(name)}/health").json()
        assert health["consumers"][0]["applied"] >= 1
    assert httpx.get(f"{platform.url('partnership')}/health").json()["relay"]["epoch"]
