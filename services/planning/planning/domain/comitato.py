"""The Comitato Istituzionale of an Ambito: its members and its regolamento's decision rules.

Members are one per Comune, weighted by the Comune's population at the reference date of
the Ambito's composition or by the quotas of the regolamento (capped if the regolamento says
so), plus advisory members (ASL, Provincia) with a configured weight (usually 0). Each seduta
copies the composition and the rule in force when it is convened, so a later change never
alters how a past vote is read.

Who may change the rule. The rule and the weights are the Comitato's own regolamento (or the
convenzione among the Comuni, D.Lgs. 267/2000 art. 30 c. 2, which fixes "i rapporti
finanziari, i loro obblighi e garanzie" and the forms of consultation of the parties): the
Ufficio di Piano only transcribes them. So, after the first configuration, a change of the
rule, of the weights' criterion, quotas or cap, or of the advisory members is recorded only
with a reference to an approved deliberation of this Ambito of type ``regolamento_comitato``
or ``convenzione`` that decides it, and each deliberation backs one change (its event names
it). The first configuration of a new Comitato transcribes the regolamento already in force
and may reference none (it records ``deliberazione_id: null``, visible to an auditor); a new
population of the Comuni under the same criterion is the rule applied, not changed, and needs
no deliberation either.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from fractions import Fraction

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

from planning.domain.regole_voto import Componente, Ponderazione, Regola, normalizzata, pesi_con_tetto

CODICE_CONSULTIVO = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")


#: the deliberation types that may change the Comitato's rule or weights
TIPI_CHE_CAMBIANO_LA_REGOLA = ("regolamento_comitato", "convenzione")


def componenti_da_ambito(comuni: list[dict], consultivi: list[dict],
                         ponderazione: Ponderazione | None = None) -> list[dict]:
    """One member per Comune (weight = population, or the regolamento's quota, capped) and the
    advisory members, checked. With a cap the Comuni's weights are rescaled to exact integers
    (``pesi_con_tetto``); an advisory member keeps its configured weight (usually 0)."""
    ponderazione = ponderazione or Ponderazione()
    if ponderazione.criterio == "quote":
        quote = dict(ponderazione.quote or {})
        istat = {c["istat"] for c in comuni}
        mancanti, estranei = sorted(istat - set(quote)), sorted(set(quote) - istat)
        if mancanti or estranei:
            raise RuleViolation(
                "Le quote indicano ogni Comune dell'Ambito e nessun altro"
                + (f"; mancano: {', '.join(mancanti)}" if mancanti else "")
                + (f"; non sono dell'Ambito: {', '.join(estranei)}" if estranei else "") + ".",
                rule="comitato.quote", field="regola.ponderazione.quote")
        base = {c["istat"]: quote[c["istat"]] for c in comuni}
    else:
        base = {c["istat"]: c["popolazione"] for c in comuni}
    if sum(base.values()) <= 0:
        raise RuleViolation("La somma dei pesi dei Comuni è positiva.", rule="comitato.pesi",
                            field="regola.ponderazione")
    try:
        pesi, _ = pesi_con_tetto(base, ponderazione.tetto)
    except ValueError as exc:
        raise RuleViolation(f"Tetto ai pesi non applicabile: {exc}.", rule="comitato.tetto",
                            field="regola.ponderazione.tetto") from None
    membri = [{"id": c["istat"], "nome": c["nome"], "peso": pesi[c["istat"]], "consultivo": False} for c in comuni]
    for i, c in enumerate(consultivi):
        if not CODICE_CONSULTIVO.match(c["id"]):
            raise RuleViolation("Il codice di un componente consultivo è in maiuscolo (es. ASL, PROVINCIA).",
                                rule="comitato.codice_consultivo", field=f"consultivi.{i}.id")
        if c["peso"] < 0:
            raise RuleViolation("Il peso non è negativo.", rule="comitato.peso", field=f"consultivi.{i}.peso")
        membri.append({"id": c["id"], "nome": c["nome"], "peso": c["peso"], "consultivo": True})
    ids = [m["id"] for m in membri]
    if len(set(ids)) != len(ids):
        raise RuleViolation("Ogni componente compare una volta.", rule="comitato.componenti_unici", field="consultivi")
    return membri


def verifica_regola(regola: dict) -> Regola:
    """Turn the stored form into a ``Regola``; a bad rule is the caller's 422."""
    from planning.domain.deliberazione import TIPI  # the reference data of deliberation types

    try:
        r = Regola.da_dict(regola)
    except (ValueError, KeyError, TypeError, ZeroDivisionError) as exc:
        raise RuleViolation(f"Regola di voto non valida: {exc}.", rule="comitato.regola", field="regola") from None
    maggioranze = [("regola.maggioranza", r.maggioranza)]
    if r.maggioranza_pesi is not None:
        maggioranze.append(("regola.maggioranza_pesi", r.maggioranza_pesi))
    for tipo, m in r.qualificate.items():
        if tipo not in TIPI:
            raise RuleViolation(f"Maggioranza qualificata per un tipo di deliberazione inesistente: {tipo!r}.",
                                rule="comitato.qualificata_tipo", field=f"regola.qualificate.{tipo}")
        maggioranze += [(f"regola.qualificate.{tipo}.teste", m.teste), (f"regola.qualificate.{tipo}.pesi", m.pesi)]
    soglie = [s for _, s in maggioranze] + [s for q in r.quorum.values() for s in (q.pesi, q.membri) if s]
    for soglia in soglie:
        if not Fraction(0) < soglia.frazione <= 1 or (soglia.stretta and soglia.frazione == 1):
            raise RuleViolation("Una soglia è una frazione tra 0 (escluso) e 1, raggiungibile.",
                                rule="comitato.soglia", field="regola")
    for campo, soglia in maggioranze:
        if soglia.frazione < Fraction(1, 2):
            raise RuleViolation("La maggioranza non può essere inferiore alla metà.", rule="comitato.maggioranza",
                                field=campo)
    return r


def verifica_presidente(regola: Regola, componenti: list[dict]) -> None:
    """The Presidente, if named, is a member who votes under the rule."""
    if regola.presidente is None:
        return
    membro = next((c for c in componenti if c["id"] == regola.presidente), None)
    if membro is None or (membro["consultivo"] and not regola.consultivi_contano):
        raise RuleViolation("Il presidente è un componente del Comitato con diritto di voto.",
                            rule="comitato.presidente", field="regola.presidente")


def cambia_la_regola(prima: dict, consultivi_prima: list[dict], dopo: dict, consultivi_dopo: list[dict]) -> bool:
    """Whether a new configuration changes the regolamento (rule, weights' criterion, advisory members),
    as opposed to applying it to new populations."""
    def consultivi(membri: list[dict]) -> list[tuple]:
        return sorted((c["id"], c["nome"], c["peso"]) for c in membri)

    return normalizzata(prima) != normalizzata(dopo) or consultivi(consultivi_prima) != consultivi(consultivi_dopo)


def verifica_atto(atto: dict | None, applicati: set[str]) -> None:
    """The deliberation a change of the rule references: approved, of a type that can change it, not used
    for an earlier change. ``atto`` is what the application read (id, tipo, stato, numero), or None."""
    if atto is None:
        raise RuleViolation("Cambiare la regola di voto, i pesi o i componenti consultivi richiede una deliberazione "
                            "approvata del Comitato (regolamento del Comitato o convenzione) che lo decide: indicarla "
                            "in deliberazione_id.", rule="comitato.deliberazione_richiesta", field="deliberazione_id")
    if atto["tipo"] not in TIPI_CHE_CAMBIANO_LA_REGOLA:
        raise RuleViolation(f"La deliberazione indicata è di tipo «{atto['tipo']}»: la regola si cambia con una "
                            "deliberazione «regolamento_comitato» o «convenzione».",
                            rule="comitato.deliberazione_tipo", field="deliberazione_id")
    if atto["stato"] != "approvata":
        raise RuleViolation(f"La deliberazione indicata è {atto['stato']}, non approvata.",
                            rule="comitato.deliberazione_approvata", field="deliberazione_id")
    if str(atto["id"]) in applicati:
        raise RuleViolation(f"La deliberazione {atto['numero']} ha già motivato una configurazione del Comitato.",
                            rule="comitato.deliberazione_gia_applicata", field="deliberazione_id")


def _senza_deliberazione(state: dict) -> None:
    state["deliberazione_id"] = None
    state["deliberazione"] = None


class Comitato(TenantAggregate):
    """One per Ambito. ``deliberazione_id``/``deliberazione`` name the act behind the configuration in force."""

    @staticmethod
    def create_id(tenant_id: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "comitato-istituzionale")

    class Costituito(TenantAggregate.Created):
        """v2: the deliberation (id and number) behind the configuration, if any (v1 events had none)."""

        class_version = 2
        tenant_id: str
        popolazione_al: date
        componenti: list[dict]
        regola: dict
        configurato_da: str
        deliberazione_id: uuid.UUID | None
        deliberazione: str | None

        upcast_v1_v2 = staticmethod(_senza_deliberazione)

    @event(Costituito)
    def __init__(self, tenant_id: str, popolazione_al: date, componenti: list[dict], regola: dict,
                 configurato_da: str, deliberazione_id: uuid.UUID | None = None,
                 deliberazione: str | None = None) -> None:
        self.tenant_id = tenant_id
        self.deliberazioni_applicate: set[str] = set()
        self._applica(popolazione_al, componenti, regola, deliberazione_id, deliberazione)

    @classmethod
    def costituisci(cls, tenant_id: str, popolazione_al: date, componenti: list[dict], regola: dict,
                    autore: str, atto: dict | None = None) -> "Comitato":
        r = verifica_regola(regola)
        verifica_presidente(r, componenti)
        if atto is not None:
            verifica_atto(atto, set())
        return cls(tenant_id=tenant_id, popolazione_al=popolazione_al, componenti=componenti,
                   regola=normalizzata(regola), configurato_da=autore,
                   deliberazione_id=atto["id"] if atto else None, deliberazione=atto["numero"] if atto else None)

    @property
    def consultivi(self) -> list[dict]:
        return [c for c in self.componenti if c["consultivo"]]

    def riconfigura(self, popolazione_al: date, componenti: list[dict], regola: dict, autore: str,
                    atto: dict | None = None) -> bool:
        """Record a new composition or rule; False when nothing changed. A change of the rule, the
        weights' criterion or the advisory members needs ``atto`` (see the module's docstring)."""
        r = verifica_regola(regola)
        verifica_presidente(r, componenti)
        regola = normalizzata(regola)
        consultivi = [c for c in componenti if c["consultivo"]]
        cambia = cambia_la_regola(self.regola, self.consultivi, regola, consultivi)
        if not cambia and (popolazione_al, componenti) == (self.popolazione_al, self.componenti) \
                and normalizzata(self.regola) == regola:
            return False
        if cambia:
            verifica_atto(atto, self.deliberazioni_applicate)
        elif atto is not None:
            raise RuleViolation("La configurazione non cambia la regola né i pesi: non serve una deliberazione.",
                                rule="comitato.deliberazione_superflua", field="deliberazione_id")
        self._riconfigurato(popolazione_al=popolazione_al, componenti=componenti, regola=regola,
                            configurato_da=autore, deliberazione_id=atto["id"] if atto else None,
                            deliberazione=atto["numero"] if atto else None)
        return True

    class Riconfigurato(TenantAggregate.Event):
        """v2: the deliberation (id and number) that decided a change of the rule (None: new populations)."""

        class_version = 2
        popolazione_al: date
        componenti: list[dict]
        regola: dict
        configurato_da: str
        deliberazione_id: uuid.UUID | None
        deliberazione: str | None

        upcast_v1_v2 = staticmethod(_senza_deliberazione)

    @event(Riconfigurato)
    def _riconfigurato(self, popolazione_al: date, componenti: list[dict], regola: dict, configurato_da: str,
                       deliberazione_id: uuid.UUID | None, deliberazione: str | None) -> None:
        self._applica(popolazione_al, componenti, regola, deliberazione_id, deliberazione)

    def _applica(self, popolazione_al: date, componenti: list[dict], regola: dict,
                 deliberazione_id: uuid.UUID | None, deliberazione: str | None) -> None:
        self.popolazione_al = popolazione_al
        self.componenti = [dict(c) for c in componenti]
        self.regola = dict(regola)
        if deliberazione_id is not None:
            self.deliberazione_id, self.deliberazione = deliberazione_id, deliberazione
            self.deliberazioni_applicate.add(str(deliberazione_id))
        elif not hasattr(self, "deliberazione_id"):
            self.deliberazione_id, self.deliberazione = None, None

    @property
    def regola_di_voto(self) -> Regola:
        return Regola.da_dict(self.regola)


def pesi_percentuali(componenti: list[dict]) -> dict[str, str]:
    """Each member's share of the total weight, as a percentage with 4 decimals (for display)."""
    totale = sum(c["peso"] for c in componenti)
    return {c["id"]: str((Decimal(100 * c["peso"]) / Decimal(totale or 1)).quantize(Decimal("0.0001")))
            for c in componenti}


def come_componenti(componenti: list[dict]) -> list[Componente]:
    return [Componente(c["id"], c["peso"], c["consultivo"]) for c in componenti]
