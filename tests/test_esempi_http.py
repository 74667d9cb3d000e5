"""The committed HTTP examples of contracts/http/ are the real journey: sent in order, they all succeed.

Each file ``contracts/http/<service>/NN-<step>.json`` is one step a person takes (the number is
its place in the whole journey, unique across the four folders): who (``ruolo``, ``comune``),
``metodo`` and ``percorso`` on ``<service>``, ``intestazioni``, ``corpo`` and the ``atteso``
status, with the small syntax contracts/http/README.md describes:

- ``{nome}`` in ``percorso``, ``comune``, ``intestazioni``, ``corpo`` and ``verifica`` is a value
  captured by an earlier step (``"cattura": {"piano_id": "id"}`` takes ``id`` of its answer) or
  one of the step's ``per_ogni`` rows (the step is sent once per row);
- ``attendi``: before the step, poll ``GET percorso`` (on ``servizio``, default the step's
  own) until it answers 200 with the ``finche`` fields: the step depends on another service's
  events, which arrive over Kafka;
- ``ripeti_se``: resend while the answer is that status and problem ``rule`` (a 4xx stores
  nothing), for the same reason where no read shows the awaited event;
- ``verifica``: fields the answer must have (dotted paths).

The end-to-end test sends them, as Ambito ``15-ESEMPI`` with S09's real Comuni, to the four
services running as processes on a real PostgreSQL and broker, and fails naming the file of
the step that answered otherwise. The other tests need no platform: the files are well formed,
every placeholder is defined before it is used, and contracts/http/README.md shows every step
with exactly the file's body.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

ROOT = Path(__file__).resolve().parents[1]
ESEMPI = ROOT / "contracts" / "http"
SERVIZI = ("planning", "finance", "partnership", "monitoring")
TENANT = "15-ESEMPI"  # S09's Comuni under an Ambito of its own: other tests use 15-S09
CHIAVI = {"descrizione", "ruolo", "metodo", "percorso", "intestazioni", "corpo", "atteso"}
FACOLTATIVE = {"comune", "cattura", "attendi", "ripeti_se", "per_ogni", "verifica"}
SEGNAPOSTO = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
ATTESA = 60.0  # seconds: the bound of every poll on another service's events


class Passo:
    """One step file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.nome = path.relative_to(ESEMPI).as_posix()
        self.servizio = path.parent.name
        self.numero = int(path.name.split("-", 1)[0])
        self.dati: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))

    def __getitem__(self, key: str) -> Any:
        return self.dati.get(key)

    def __repr__(self) -> str:
        return self.nome


def passi() -> list[Passo]:
    files = [Passo(p) for s in SERVIZI for p in (ESEMPI / s).glob("*.json")]
    return sorted(files, key=lambda p: p.numero)


def sostituisci(value: Any, variabili: dict[str, Any], dove: str) -> Any:
    """``value`` with every ``{nome}`` replaced; a string that is only ``{nome}`` takes the value as is."""
    if isinstance(value, dict):
        return {k: sostituisci(v, variabili, dove) for k, v in value.items()}
    if isinstance(value, list):
        return [sostituisci(v, variabili, dove) for v in value]
    if not isinstance(value, str):
        return value

    def valore(nome: str) -> Any:
        if nome not in variabili:
            raise AssertionError(f"{dove}: {{{nome}}} is neither captured by an earlier step nor a per_ogni column")
        return variabili[nome]

    intero = SEGNAPOSTO.fullmatch(value)
    if intero:
        return valore(intero.group(1))
    return SEGNAPOSTO.sub(lambda m: str(valore(m.group(1))), value)


def campo(body: Any, percorso: str) -> Any:
    """The value at a dotted path of a JSON answer (``esito.ponderato.maggioranza``)."""
    for parte in percorso.split("."):
        if isinstance(body, list) and parte.isdigit():
            body = body[int(parte)]
        elif isinstance(body, dict) and parte in body:
            body = body[parte]
        else:
            raise KeyError(percorso)
    return body


def differenze(body: Any, attesi: dict[str, Any]) -> dict[str, Any]:
    """The expected fields the answer does not have: ``{path: (expected, found)}``."""
    diff = {}
    for percorso, atteso in attesi.items():
        try:
            trovato = campo(body, percorso)
        except KeyError:
            trovato = "<assente>"
        if trovato != atteso:
            diff[percorso] = (atteso, trovato)
    return diff


def segnaposti(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(segnaposti(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(segnaposti(v) for v in value)) if value else set()
    return set(SEGNAPOSTO.findall(value)) if isinstance(value, str) else set()


# -- the files, without a platform ------------------------------------------------------------

def test_the_steps_are_well_formed_and_every_placeholder_is_defined_before_use() -> None:
    tutti = passi()
    assert len(tutti) >= 40, tutti
    numeri = [p.numero for p in tutti]
    assert len(set(numeri)) == len(numeri), f"a step number is used twice: {numeri}"
    definiti: set[str] = set()
    for p in tutti:
        assert re.fullmatch(r"\d{2}-[a-z0-9-]+\.json", p.path.name), p
        chiavi = set(p.dati)
        assert CHIAVI <= chiavi and chiavi <= CHIAVI | FACOLTATIVE, (p, chiavi ^ CHIAVI)
        assert p["metodo"] in {"GET", "POST", "PUT", "DELETE"} and p["percorso"].startswith("/"), p
        assert isinstance(p["atteso"], int) and isinstance(p["intestazioni"], dict), p
        assert p["descrizione"].strip() and "\n" not in p["descrizione"], p
        righe = p["per_ogni"] or [{}]
        colonne = set(righe[0])
        assert all(set(r) == colonne for r in righe), f"{p}: per_ogni rows with different columns"
        assert not (p["per_ogni"] and p["cattura"]), f"{p}: a repeated step captures nothing"
        usati = segnaposti([p["percorso"], p["comune"], p["intestazioni"], p["corpo"], p["verifica"]])
        attesa = p["attendi"] or {}
        usati |= segnaposti([attesa.get("percorso"), attesa.get("finche")])
        mancanti = usati - definiti - colonne
        assert not mancanti, f"{p}: {sorted(mancanti)} not captured by an earlier step"
        if p["attendi"]:
            assert set(attesa) <= {"servizio", "percorso", "finche"} and attesa.get("servizio", p.servizio) in SERVIZI
        if p["ripeti_se"]:
            assert set(p["ripeti_se"]) == {"stato", "regola"} and 400 <= p["ripeti_se"]["stato"] < 500, p
        if "Idempotency-Key" in p["intestazioni"]:
            assert re.fullmatch(r"[A-Za-z0-9._:-]{8,128}", p["intestazioni"]["Idempotency-Key"]), p
        definiti |= set(p["cattura"] or {})


def test_the_readme_shows_every_step_with_the_body_of_its_file() -> None:
    readme = (ESEMPI / "README.md").read_text(encoding="utf-8")
    for p in passi():
        link = f"]({p.nome})"
        assert readme.count(link) == 1, f"README.md links {p.nome} {readme.count(link)} times"
        sezione = readme[readme.index(link):]
        fine = sezione.find("\n### ", 1)
        sezione = sezione if fine < 0 else sezione[:fine]
        blocchi = re.findall(r"```json\n(.*?)```", sezione, flags=re.S)
        if p["corpo"] is None:
            assert not blocchi, f"README.md shows a body for {p.nome}, which has none"
        else:
            assert blocchi and json.loads(blocchi[0]) == p["corpo"], (
                f"README.md's body of {p.nome} differs from the file")


# -- the journey, on the platform -------------------------------------------------------------

def test_the_examples_sent_in_order_make_the_journey_of_an_ambito(platform: Platform) -> None:
    infra = platform.infra
    variabili: dict[str, Any] = {}
    with httpx.Client(timeout=30) as client:
        for p in passi():
            url = platform.url(p.servizio)
            righe = p["per_ogni"] or [{}]
            for i, riga in enumerate(righe):
                dove = p.nome if not p["per_ogni"] else f"{p.nome} (per_ogni: {riga})"
                v = {**variabili, **riga}
                comune = sostituisci(p["comune"], v, dove)
                headers = {**infra.auth(TENANT, p["ruolo"], comune=comune),
                           **sostituisci(p["intestazioni"], v, dove)}
                if p["attendi"] and i == 0:
                    attendi(client, platform, p, v, headers, dove)
                metodo, percorso = p["metodo"], sostituisci(p["percorso"], v, dove)
                corpo = sostituisci(p["corpo"], v, dove)

                def invia(metodo: str = metodo, indirizzo: str = f"{url}{percorso}", headers: dict = headers,
                          corpo: Any = corpo) -> httpx.Response:
                    kw = {} if corpo is None else {"json": corpo}
                    return client.request(metodo, indirizzo, headers=headers, **kw)

                risposta = ripeti(invia, p["ripeti_se"], dove) if p["ripeti_se"] else invia()
                assert risposta.status_code == p["atteso"], (
                    f"{dove}: {metodo} {percorso} answered {risposta.status_code}, expected {p['atteso']}: "
                    f"{risposta.text[:1500]}")
                body = risposta.json() if risposta.content else None
                diff = differenze(body, sostituisci(p["verifica"] or {}, v, dove))
                assert not diff, f"{dove}: the answer differs in {diff}"
                for nome, percorso_json in (p["cattura"] or {}).items():
                    try:
                        variabili[nome] = campo(body, percorso_json)
                    except KeyError:
                        raise AssertionError(f"{dove}: the answer has no {percorso_json!r} to capture as {nome}: "
                                             f"{risposta.text[:500]}") from None

    # the journey's end, read back: the Piano in attuazione with its update in draft, and the money moved
    coordinatore = infra.auth(TENANT, "coordinatore")
    piano = httpx.get(f"{platform.url('planning')}/piani/{variabili['piano_id']}", headers=coordinatore).json()
    assert (piano["stato"], piano["versione_vigente"]) == ("in_attuazione", 1), piano
    versione = httpx.get(f"{platform.url('planning')}/piani/{variabili['piano_id']}/versioni/2",
                         headers=coordinatore).json()
    assert [i["codice"] for i in versione["aree"][2]["obiettivi"][0]["interventi"]] == ["C.1.1", "C.1.2"]
    stanziamento = httpx.get(f"{platform.url('finance')}/stanziamenti/{variabili['stanziamento_fnps_id']}",
                             headers=coordinatore).json()
    assert (stanziamento["impegnato"], stanziamento["pagato"]) == ("110000.00", "30000.00"), stanziamento


def attendi(client: httpx.Client, platform: Platform, p: Passo, v: dict[str, Any], headers: dict[str, str],
            dove: str) -> None:
    """Poll the step's ``attendi`` read until it answers 200 with the ``finche`` fields (bounded)."""
    attesa = p["attendi"]
    url = platform.url(attesa.get("servizio", p.servizio)) + sostituisci(attesa["percorso"], v, dove)
    finche = sostituisci(attesa.get("finche") or {}, v, dove)
    letto: list[httpx.Response] = []

    def pronto() -> bool:
        r = client.get(url, headers={"Authorization": headers["Authorization"]})
        letto[:] = [r]
        return r.status_code == 200 and not differenze(r.json(), finche)

    try:
        wait_until(pronto, timeout=ATTESA, interval=0.25, message=f"{dove}: GET {url} with {finche}")
    except AssertionError as exc:
        ultimo = f" (last answer {letto[0].status_code}: {letto[0].text[:500]})" if letto else ""
        raise AssertionError(f"{exc}{ultimo}") from None


def ripeti(invia: Any, ripeti_se: dict[str, Any], dove: str) -> httpx.Response:
    """Resend while the answer is ``ripeti_se``'s status and rule (bounded)."""

    def prova() -> tuple[httpx.Response] | None:
        r = invia()
        if r.status_code == ripeti_se["stato"] and r.headers.get("content-type", "").startswith(
                "application/problem+json") and r.json().get("rule") == ripeti_se["regola"]:
            return None
        return (r,)

    return wait_until(prova, timeout=ATTESA, interval=0.5, message=f"{dove}: an answer other than {ripeti_se}")[0]
