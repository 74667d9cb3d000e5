"""Open data without a token: an Ambito's indicator CSVs, OCDS and 360Giving at stable public URLs,
cacheable (ETag, 304), with the small-count suppression of the Ambito's own downloads."""

from __future__ import annotations

import csv
import io

import httpx

from ambiti_kit.testing.fixtures import Platform
from tests.test_monitoring_piccoli_numeri import SAPRI, TORRACA, TORTORELLA, _prestazione, _registra_ambito

TENANT = "15-OPEN"


def test_open_data_needs_no_token_is_cacheable_and_suppresses_small_counts(platform: Platform) -> None:
    mon = platform.url("monitoring")
    _registra_ambito(platform, TENANT)
    _prestazione(platform, TENANT, TORTORELLA, {"salute_mentale": {"18-64": 1}})
    _prestazione(platform, TENANT, SAPRI, {"salute_mentale": {"18-64": 20}, "anziani": {"65+": 30}})
    base = f"{mon}/pubblici/ambiti/{TENANT}"

    public = httpx.get(f"{base}/indicatori/utenze_per_area.csv")  # no Authorization header at all
    assert public.status_code == 200 and public.headers["content-type"].startswith("text/csv")
    assert public.headers["cache-control"] == "public, max-age=300" and public.headers["etag"].startswith('"')
    staff = httpx.get(f"{mon}/indicatori/utenze_per_area.csv", headers=platform.infra.auth(TENANT, "coordinatore"))
    assert public.text == staff.text  # the same document as the Ambito's own, suppression included
    rows = {r["codice"]: r for r in csv.DictReader(io.StringIO(public.text))}
    assert rows[TORTORELLA]["salute_mentale"] == "<3"
    # the column's total and Sapri's 20 are not both published: their difference would be Tortorella's 1
    assert not (rows[SAPRI]["salute_mentale"].isdigit() and rows[TENANT]["salute_mentale"].isdigit())

    again = httpx.get(f"{base}/indicatori/utenze_per_area.csv", headers={"If-None-Match": public.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == public.headers["etag"]
    _prestazione(platform, TENANT, TORRACA, {"anziani": {"65+": 5}})
    changed = httpx.get(f"{base}/indicatori/utenze_per_area.csv", headers={"If-None-Match": public.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != public.headers["etag"]

    for path, media in (("/ocds.json", "application/json"), ("/360giving.csv", "text/csv"),
                        ("/indicatori/spesa_pro_capite.csv", "text/csv")):
        r = httpx.get(f"{base}{path}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(media) and r.headers["etag"], path
    assert httpx.get(f"{base}/ocds.json").json()["publisher"]
    assert httpx.get(f"{mon}/pubblici/ambiti/15-NESSUNO/ocds.json").status_code == 404
    assert httpx.get(f"{base}/indicatori/segreto.csv").status_code == 404
    bad = httpx.get(f"{mon}/pubblici/ambiti/15-s09%0A/ocds.json")
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
