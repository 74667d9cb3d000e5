"""Bad input and bad credentials: every answer is a 4xx problem+json and nothing is stored.

Requests go to the real services (session ``platform`` fixture). "Nothing stored" is
checked on the planning event store itself: its events table has as many rows after the
request as before.
"""

from __future__ import annotations

import base64
import json
import string
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from psycopg import sql

from ambiti_kit.testing.fixtures import Infra, Platform

TENANT = "15-BAD1"
OTHER_TENANT = "15-BAD2"
FORGERY_SECRET = "not-the-platform-secret-but-long-enough-0123456789"
VALID = {"titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027}
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# Every authenticated route of the platform: (service, method, path).
SOME_ID = "8a5d0a3e-6a52-4f43-9d3c-2d3f0b3c9e11"
ROUTES = [
    ("planning", "POST", "/piani"),
    ("planning", "GET", f"/piani/{SOME_ID}"),
    ("monitoring", "GET", "/piani"),
    ("monitoring", "GET", f"/piani/{SOME_ID}"),
    ("monitoring", "GET", "/regione/piani"),
    ("finance", "GET", f"/budget/{SOME_ID}"),
    *[(service, "GET", "/audit/verify") for service in ("planning", "finance", "partnership", "monitoring")],
]
TENANT_ROUTES = [r for r in ROUTES if r[2] != "/regione/piani"]


# -- helpers ------------------------------------------------------------------------------

def planning_events(infra: Infra) -> int:
    """Rows of planning's events table (the store every POST /piani would write to)."""
    table = sql.SQL("{}.planning_events").format(sql.Identifier(f"{infra.namespace}planning"))
    with infra.connect() as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]


@contextmanager
def nothing_stored(infra: Infra) -> Iterator[None]:
    """Assert that the block leaves planning's event store as it found it."""
    before = planning_events(infra)
    yield
    after = planning_events(infra)
    assert after == before, f"{after - before} event(s) stored by a rejected request"


def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx (or exactly ``status``) RFC 9457 problem with status, title and detail."""
    if status is None:
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
    else:
        assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_field_error(body: dict[str, Any], field: str, rule: str) -> None:
    """The problem's ``errors`` list names ``field`` with ``rule``."""
    assert isinstance(body.get("errors"), list) and body["errors"], body
    assert {"field": field, "rule": rule} in [{k: e[k] for k in ("field", "rule")} for e in body["errors"]], body


def claims(infra: Infra, **overrides: Any) -> dict[str, Any]:
    """Well-formed claims of a coordinatore of TENANT, as the platform's issuer writes them."""
    settings_ = infra.platform_settings()
    now = int(time.time())
    return {"iss": settings_.jwt_issuer, "aud": settings_.jwt_audience, "iat": now, "exp": now + 600,
            "sub": f"coordinatore@{TENANT}", "roles": ["coordinatore"], "tenant": TENANT, **overrides}


def sign(infra: Infra, payload: dict[str, Any], secret: str | None = None) -> str:
    return jwt.encode(payload, secret or infra.platform_settings().jwt_secret.get_secret_value(), algorithm="HS256")


def tamper(token: str, **changes: Any) -> str:
    """Rewrite a signed token's payload, keeping its header and (now wrong) signature."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def call(platform: Platform, service: str, method: str, path: str, **kw: Any) -> httpx.Response:
    if method == "POST":
        kw.setdefault("json", {**VALID, "anno_inizio": 2040, "anno_fine": 2042})
    return httpx.request(method, f"{platform.url(service)}{path}", timeout=10, **kw)


@pytest.fixture(scope="module")
def coordinatore(platform: Platform) -> dict[str, str]:
    return platform.infra.auth(TENANT, "coordinatore")


def post_piani(platform: Platform, headers: dict[str, str], **kw: Any) -> httpx.Response:
    return httpx.post(f"{platform.url('planning')}/piani", headers=headers, timeout=10, **kw)


# -- malformed bodies ----------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"{", b'{"titolo": }', b'{"titolo": "Piano", "anno_inizio": 2025,}',
                                 b"titolo=Piano", b"{'titolo': 'Piano'}"])
def test_malformed_json_is_400(platform: Platform, coordinatore: dict[str, str], raw: bytes) -> None:
    """Syntactically broken JSON: 400 with a json_invalid error."""
    with nothing_stored(platform.infra):
        response = post_piani(platform, {**coordinatore, "content-type": "application/json"}, content=raw)
    body = assert_problem(response, 400)
    assert any(e["rule"] == "json_invalid" for e in body["errors"]), body


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b"[" * 50_000])
def test_undecodable_body_is_400(platform: Platform, coordinatore: dict[str, str], raw: bytes) -> None:
    """Bytes that are not UTF-8, or JSON nested beyond the parser's reach: 400, not 500."""
    with nothing_stored(platform.infra):
        response = post_piani(platform, {**coordinatore, "content-type": "application/json"}, content=raw)
    assert_problem(response, 400)


def test_empty_or_non_object_body_is_422(platform: Platform, coordinatore: dict[str, str]) -> None:
    """A missing body, and JSON that is not an object, name ``body``."""
    with nothing_stored(platform.infra):
        empty = post_piani(platform, {**coordinatore, "content-type": "application/json"}, content=b"")
        listed = post_piani(platform, coordinatore, json=[VALID])
    assert_field_error(assert_problem(empty, 422), "body", "missing")
    assert_field_error(assert_problem(listed, 422), "body", "model_attributes_type")


# -- invalid fields ------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field", "rule"), [
    ({"anno_inizio": "2025"}, "body.anno_inizio", "int_type"),
    ({"anno_fine": "2027"}, "body.anno_fine", "int_type"),
    ({"anno_inizio": 2025.0}, "body.anno_inizio", "int_type"),
    ({"anno_inizio": True}, "body.anno_inizio", "int_type"),
    ({"anno_fine": None}, "body.anno_fine", "int_type"),
    ({"titolo": 123}, "body.titolo", "string_type"),
    ({"titolo": ["Piano"]}, "body.titolo", "string_type"),
    ({"titolo": "ab"}, "body.titolo", "string_too_short"),
    ({"titolo": "P" * 201}, "body.titolo", "string_too_long"),
    ({"anno_inizio": 1999, "anno_fine": 2001}, "body.anno_inizio", "greater_than_equal"),
    ({"anno_inizio": 2100, "anno_fine": 2102}, "body.anno_fine", "less_than_equal"),
    ({"anno_inizio": -2025}, "body.anno_inizio", "greater_than_equal"),
    ({"anno_fine": 10**20}, "body.anno_fine", "less_than_equal"),
    ({"ambito": "15-BAD2"}, "body.ambito", "extra_forbidden"),
    ({"stato": "approvato"}, "body.stato", "extra_forbidden"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_invalid_field_is_422_naming_field_and_rule(platform: Platform, coordinatore: dict[str, str],
                                                     changes: dict[str, Any], field: str, rule: str) -> None:
    """Wrong types, out-of-range years and unknown fields are refused field by field."""
    with nothing_stored(platform.infra):
        response = post_piani(platform, coordinatore, json={**VALID, **changes})
    body = assert_problem(response, 422)
    assert_field_error(body, field, rule)
    assert field in body["detail"]


@pytest.mark.parametrize("missing", ["titolo", "anno_inizio", "anno_fine"])
def test_missing_field_is_422(platform: Platform, coordinatore: dict[str, str], missing: str) -> None:
    with nothing_stored(platform.infra):
        response = post_piani(platform, coordinatore, json={k: v for k, v in VALID.items() if k != missing})
    assert_field_error(assert_problem(response, 422), f"body.{missing}", "missing")


def test_every_invalid_field_is_reported_at_once(platform: Platform, coordinatore: dict[str, str]) -> None:
    with nothing_stored(platform.infra):
        response = post_piani(platform, coordinatore, json={"titolo": 7, "anno_inizio": "x", "extra": 1})
    body = assert_problem(response, 422)
    for field, rule in [("body.titolo", "string_type"), ("body.anno_inizio", "int_type"),
                        ("body.anno_fine", "missing"), ("body.extra", "extra_forbidden")]:
        assert_field_error(body, field, rule)


@pytest.mark.parametrize(("inizio", "fine"), [(2025, 2026), (2025, 2025), (2025, 2028), (2027, 2025)])
def test_non_triennial_period_is_422(platform: Platform, coordinatore: dict[str, str],
                                     inizio: int, fine: int) -> None:
    """The domain rule: a Piano di Zona covers exactly three consecutive years."""
    with nothing_stored(platform.infra):
        response = post_piani(platform, coordinatore, json={**VALID, "anno_inizio": inizio, "anno_fine": fine})
    body = assert_problem(response, 422)
    assert body["rule"] == "piano.periodo_triennale" and body["field"] == "anno_fine", body
    assert f"{inizio}–{fine}" in body["detail"]


def test_second_plan_for_the_same_triennium_is_409(platform: Platform, coordinatore: dict[str, str]) -> None:
    """One plan per Ambito and triennium; the repeat stores nothing, whatever its title."""
    first = post_piani(platform, coordinatore, json=VALID)
    assert first.status_code == 201, first.text
    for repeat in (VALID, {**VALID, "titolo": "Un altro titolo per lo stesso triennio"}):
        with nothing_stored(platform.infra):
            response = post_piani(platform, coordinatore, json=repeat)
        body = assert_problem(response, 409)
        assert body["rule"] == "piano.unico_per_triennio", body
    # the original plan is untouched
    again = httpx.get(f"{platform.url('planning')}/piani/{first.json()['id']}", headers=coordinatore)
    assert again.status_code == 200 and again.json()["titolo"] == VALID["titolo"]
    assert again.json()["versione"] == 1


def test_unknown_route_and_method_are_problems(platform: Platform, coordinatore: dict[str, str]) -> None:
    with nothing_stored(platform.infra):
        missing = httpx.get(f"{platform.url('planning')}/piani-inesistenti", headers=coordinatore)
        wrong_method = httpx.put(f"{platform.url('planning')}/piani", headers=coordinatore, json=VALID)
        bad_id = httpx.get(f"{platform.url('planning')}/piani/non-un-uuid", headers=coordinatore)
    assert_problem(missing, 404)
    assert_problem(wrong_method, 405)
    assert_field_error(assert_problem(bad_id, 422), "path.piano_id", "uuid_parsing")


# -- credentials ---------------------------------------------------------------------------

def bad_credentials(infra: Infra) -> dict[str, tuple[dict[str, str], str | None]]:
    """Kinds of bad Authorization header -> (headers, the rule the 401 must name)."""
    assistente = infra.token(TENANT, "assistente_sociale")
    return {
        "missing": ({}, "token.missing"),
        "not_bearer": ({"Authorization": "Basic Y29vcmRpbmF0b3JlOnNlZ3JldG8="}, "token.missing"),
        "empty_bearer": ({"Authorization": "Bearer"}, "token.missing"),
        "garbage": ({"Authorization": "Bearer non.un.token"}, "token.invalid"),
        "expired": ({"Authorization": f"Bearer {infra.token(TENANT, 'coordinatore', ttl_seconds=-10)}"},
                    "token.expired"),
        "forged": ({"Authorization": f"Bearer {sign(infra, claims(infra), FORGERY_SECRET)}"}, "token.signature"),
        "tampered_roles": ({"Authorization": f"Bearer {tamper(assistente, roles=['coordinatore'])}"},
                           "token.signature"),
        "tampered_tenant": ({"Authorization": f"Bearer {tamper(infra.token(TENANT), tenant=OTHER_TENANT)}"},
                            "token.signature"),
        "alg_none": ({"Authorization": f"Bearer {jwt.encode(claims(infra), None, algorithm='none')}"},
                     "token.algoritmo"),
        "wrong_audience": ({"Authorization": f"Bearer {sign(infra, claims(infra, aud='altro'))}"}, "token.audience"),
        "wrong_issuer": ({"Authorization": f"Bearer {sign(infra, claims(infra, iss='altro'))}"}, "token.issuer"),
        "no_exp": ({"Authorization": f"Bearer {sign(infra, {k: v for k, v in claims(infra).items() if k != 'exp'})}"},
                   "token.invalid"),
        "unknown_role": ({"Authorization": f"Bearer {sign(infra, claims(infra, roles=['sindaco']))}"}, "token.roles"),
        "no_roles": ({"Authorization": f"Bearer {sign(infra, claims(infra, roles=[]))}"}, "token.roles"),
        "bad_tenant": ({"Authorization": f"Bearer {sign(infra, claims(infra, tenant='Milano'))}"}, "token.tenant"),
        "regione_without_region": (
            {"Authorization": f"Bearer {sign(infra, claims(infra, roles=['regione'], tenant=None))}"},
            "token.regione"),
    }


BAD_CREDENTIALS = ["missing", "not_bearer", "empty_bearer", "garbage", "expired", "forged", "tampered_roles",
                   "tampered_tenant", "alg_none", "wrong_audience", "wrong_issuer", "no_exp", "unknown_role",
                   "no_roles", "bad_tenant", "regione_without_region"]


@pytest.mark.parametrize("kind", BAD_CREDENTIALS)
def test_bad_credentials_are_401_on_every_route(platform: Platform, kind: str) -> None:
    """Each kind of bad token is refused with 401 and its rule, on every service's routes."""
    headers, rule = bad_credentials(platform.infra)[kind]
    for service, method, path in ROUTES:
        with nothing_stored(platform.infra):
            response = call(platform, service, method, path, headers=headers)
        body = assert_problem(response, 401)
        assert body["rule"] == rule, (service, path, body)
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", ["amministrativo", "assistente_sociale", "componente_comitato", "referente_asl",
                                  "referente_ets", "integratore", "revisore"])
def test_only_the_coordinatore_drafts_a_plan(platform: Platform, role: str) -> None:
    with nothing_stored(platform.infra):
        response = post_piani(platform, platform.infra.auth(TENANT, role), json={**VALID, "anno_inizio": 2043,
                                                                                   "anno_fine": 2045})
    assert assert_problem(response, 403)["rule"] == "role.required"


def test_regione_token_is_403_on_tenant_routes(platform: Platform) -> None:
    """A Region acts for no Ambito: every tenant route refuses it."""
    regione = platform.infra.auth(None, "regione", regione="15")
    for service, method, path in TENANT_ROUTES:
        with nothing_stored(platform.infra):
            response = call(platform, service, method, path, headers=regione)
        assert assert_problem(response, 403)["rule"] in {"role.required", "token.tenant"}, (service, path)


def test_tenant_roles_are_403_on_the_regional_view(platform: Platform) -> None:
    for role in ("coordinatore", "revisore", "amministrativo"):
        response = call(platform, "monitoring", "GET", "/regione/piani", headers=platform.infra.auth(TENANT, role))
        assert assert_problem(response, 403)["rule"] == "role.required"


def test_roles_outside_each_read_route_are_403(platform: Platform) -> None:
    """Roles valid on the platform but not admitted by a given read route."""
    cases = [("planning", f"/piani/{SOME_ID}", "referente_ets"),
             ("monitoring", "/piani", "integratore"),
             ("finance", f"/budget/{SOME_ID}", "assistente_sociale"),
             ("planning", "/audit/verify", "amministrativo")]
    for service, path, role in cases:
        response = call(platform, service, "GET", path, headers=platform.infra.auth(TENANT, role))
        assert assert_problem(response, 403)["rule"] == "role.required", (service, path, role)


# -- fuzzing -------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=16)
years = st.integers(1990, 2110)
near_valid = st.fixed_dictionaries({}, optional={
    "titolo": st.text(max_size=210) | json_values, "anno_inizio": years | json_values,
    "anno_fine": years | json_values}) | st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries({"titolo": st.text(min_size=3, max_size=20), "anno_inizio": years, "anno_fine": years}),
    st.dictionaries(st.text(max_size=12), json_values, max_size=2))

FRAMING = {"content-length", "transfer-encoding", "host", "connection", "expect", "upgrade", "te", "trailer",
           "keep-alive", "proxy-connection"}
TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
header_names = st.sampled_from(["authorization", "content-type", "accept", "x-correlation-id", "cookie",
                                "content-encoding", "accept-encoding", "origin", "x-forwarded-for", "range"]) | \
    st.text(TCHAR, min_size=1, max_size=20).filter(lambda n: n.lower() not in FRAMING)
# Bytes a client may send in a header value: visible ASCII and obs-text, no edge spaces.
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                        min_size=1, max_size=60).map(str.strip).filter(bool).map(lambda v: v.encode("latin-1"))
authorizations = st.sampled_from([b"", b"Bearer", b"Basic"]).flatmap(
    lambda scheme: header_values.map(lambda v: (scheme + b" " + v).strip()))
#: Random headers besides Authorization (fuzzed on its own below).
garbage_headers = st.dictionaries(header_names.map(str.lower).filter(lambda n: n != "authorization"),
                                  header_values, max_size=5)


def accepted_as_valid(body: Any) -> bool:
    """Whether planning would accept ``body`` as a new plan.

    The fuzzers send only bad input, so that "nothing stored" holds for every example, and
    because a valid plan whose title holds a NUL character would stall monitoring's consumer
    for the rest of the session (a known bug: its projection cannot store NUL in a text column).
    """
    if not (isinstance(body, dict) and set(body) == {"titolo", "anno_inizio", "anno_fine"}):
        return False
    inizio, fine, titolo = body["anno_inizio"], body["anno_fine"], body["titolo"]
    years_ok = all(type(y) is int and 2000 <= y <= 2100 for y in (inizio, fine))
    return isinstance(titolo, str) and 3 <= len(titolo) <= 200 and years_ok and fine - inizio == 2


@FUZZ
@given(body=json_values | near_valid, ascii_only=st.booleans(), garbage=garbage_headers,
       authenticated=st.sampled_from([True, True, True, False]))
def test_fuzzed_json_never_breaks_the_service(platform: Platform, body: Any, ascii_only: bool,
                                               garbage: dict[str, bytes], authenticated: bool) -> None:
    """Random JSON under random headers: never 5xx, always problem+json, nothing stored."""
    assume(not accepted_as_valid(body))
    headers: dict[str, Any] = {"content-type": b"application/json"}
    if authenticated:
        headers["authorization"] = platform.infra.auth(TENANT, "coordinatore")["Authorization"].encode()
    headers.update(garbage)
    with nothing_stored(platform.infra):
        response = httpx.post(f"{platform.url('planning')}/piani", headers=headers, timeout=10,
                              content=json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text
    assert_problem(response)


@FUZZ
@given(raw=st.binary(max_size=80), garbage=garbage_headers)
def test_fuzzed_bytes_never_break_the_service(platform: Platform, raw: bytes, garbage: dict[str, bytes]) -> None:
    """Random bytes as the body of an authenticated POST: a 4xx problem, nothing stored."""
    headers = {"content-type": b"application/json",
               "authorization": platform.infra.auth(TENANT, "coordinatore")["Authorization"].encode(), **garbage}
    with nothing_stored(platform.infra):
        response = httpx.post(f"{platform.url('planning')}/piani", headers=headers, content=raw, timeout=10)
    event(f"status {response.status_code}")
    assert_problem(response)


@FUZZ
@given(route=st.sampled_from(ROUTES), authorization=authorizations, garbage=garbage_headers)
def test_fuzzed_authorization_is_always_401(platform: Platform, route: tuple[str, str, str],
                                             authorization: bytes, garbage: dict[str, bytes]) -> None:
    """No Authorization header we did not sign opens any route."""
    service, method, path = route
    headers = {**garbage, "authorization": authorization}
    with nothing_stored(platform.infra):
        response = call(platform, service, method, path, headers=headers)
    assert_problem(response, 401)


def test_fuzz_targets_are_live(platform: Platform, coordinatore: dict[str, str]) -> None:
    """Sanity for the fuzzers: the same endpoint does accept a valid plan (so 4xx above means rejection)."""
    created = post_piani(platform, coordinatore, json={**VALID, "anno_inizio": 2028, "anno_fine": 2030,
                                                       "titolo": f"Piano {uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    assert accepted_as_valid({**VALID, "anno_inizio": 2028, "anno_fine": 2030})
