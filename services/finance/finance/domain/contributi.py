"""Municipal contributions (*contributi comunali*): each Comune's yearly quota, due dates, payments, arrears.

One ``ContributiComunali`` per Ambito and year. Its creation (``Determinati``) fixes the quota of every
Comune of the Ambito, computed by a pure function in one of two ways:

- **pro capite**: ``quota_pro_capite`` × the Comune's resident population at ``popolazione_al``, each
  amount rounded to the cent ROUND_HALF_UP (the total is the sum of the rounded quotas);
- **deliberato**: an explicit amount per Comune approved by a deliberation of the Comitato (its id and
  number ``n/anno``), which must name every Comune exactly once; the amounts can be the result of a stored
  riparto among the Comuni (``riparto_id``, kept in the event), e.g. a cost split 50% in equal parts and
  50% by population, as the regolamento of the gestione associata (art. 30 D.Lgs. 267/2000) provides.

The same event fixes the due dates (*scadenze*: dates with percentages adding up to 100) and each Comune's
instalments (*rate*). A quota is split into instalments to the cent by the **largest remainder** method:
every instalment is first the exact share ``quota × percentuale / 100`` rounded down to the cent, then the
cents still missing go one each to the instalments with the largest discarded remainders (ties to the
earlier due date). The instalments therefore always add up exactly to the quota and each differs from its
exact share by less than a cent. The event stores the inputs, the method and the result, so the
determination can be re-run and explained years later.

Payments (``VersamentoRegistrato``) are received from one Comune with a reference (reversale / quietanza
number, unique in the aggregate); a payment above what the Comune still owes is refused. A reversal
(``VersamentoStornato``) voids a recorded payment with a reason: the payment then counts at no date, and
both events stay in the history.

Money is ``decimal.Decimal`` throughout (stored as strings by the event store), dates are ``datetime.date``.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, NotFound, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import verifica_istat_comune

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CENTO = Decimal(100)
#: a sanity ceiling that keeps every sum exact in the default decimal context (28 digits)
IMPORTO_MASSIMO = Decimal("1000000000000")
#: decimals allowed in a per-capita amount (e.g. 2.5823 € = 5.000 lire)
DECIMALI_QUOTA_PRO_CAPITE = 4
PRO_CAPITE, DELIBERATO = "pro_capite", "deliberato"
METODI = (PRO_CAPITE, DELIBERATO)

_NUMERO_DELIBERAZIONE = re.compile(r"^[1-9]\d*/\d{4}$")
_CONTROLLO = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------- validation helpers


def _decimali(value: Decimal) -> int:
    """How many decimals ``value`` really has (1.500 has 1, 0.005 has 3): exact, without a decimal context."""
    _, cifre, esponente = value.as_tuple()
    assert isinstance(esponente, int)
    if esponente >= 0 or not any(cifre):
        return 0
    zeri_finali = len(cifre) - len("".join(map(str, cifre)).rstrip("0"))
    return max(0, -esponente - zeri_finali)


def _decimale(value: Any, *, rule: str, field: str, nome: str) -> Decimal:
    """A finite Decimal (or int) below the ceiling; floats are refused, never converted."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise RuleViolation(f"{nome} è un importo decimale esatto (Decimal), non {type(value).__name__}.",
                            rule=rule, field=field)
    value = Decimal(value)
    if not value.is_finite():
        raise RuleViolation(f"{nome} non è un numero finito.", rule=rule, field=field)
    if abs(value) >= IMPORTO_MASSIMO:
        raise RuleViolation(f"{nome} supera il massimo ammesso ({IMPORTO_MASSIMO}).", rule="importo.massimo",
                            field=field)
    return value


def verifica_importo(value: Any, field: str = "importo", *, positivo: bool = True) -> Decimal:
    """An amount of money: > 0 (or ≥ 0 when ``positivo`` is False), at most 2 decimals; returned to the cent."""
    importo = _decimale(value, rule="importo.decimale", field=field, nome="L'importo")
    if positivo and importo <= 0:
        raise RuleViolation("L'importo è maggiore di zero.", rule="importo.positivo", field=field)
    if not positivo and importo < 0:
        raise RuleViolation("L'importo non è negativo.", rule="importo.non_negativo", field=field)
    if _decimali(importo) > 2:
        raise RuleViolation("L'importo ha al massimo 2 decimali (centesimi).", rule="importo.centesimi",
                            field=field)
    return importo.quantize(CENT)


def _data(value: Any, *, rule: str, field: str) -> date:
    if type(value) is not date:  # a datetime is a date too, but would not compare with dates
        raise RuleViolation("Una data (senza ora) è richiesta.", rule=rule, field=field)
    return value


def _testo(value: Any, *, rule: str, field: str, nome: str, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_length \
            or _CONTROLLO.search(value):
        raise RuleViolation(f"{nome}: testo di 1-{max_length} caratteri senza caratteri di controllo.",
                            rule=rule, field=field)
    return value.strip()


def _chiave_riferimento(riferimento: str) -> str:
    """References that differ only in case or spacing are the same reference ("Rev. 12" = "rev.  12")."""
    return " ".join(riferimento.split()).casefold()


def _cent(value: Decimal) -> str:
    return str(value.quantize(CENT))


# ---------------------------------------------------------------- pure computations


def quote_pro_capite(comuni: list[dict], quota_pro_capite: Decimal) -> dict[str, Decimal]:
    """Each Comune's quota: ``quota_pro_capite × popolazione`` rounded to the cent ROUND_HALF_UP.

    ``comuni`` are already validated (unique istat, integer populations); the order is kept.
    """
    with localcontext() as ctx:
        ctx.prec = 60  # the product is exact; rounding happens only in quantize
        return {c["istat"]: (quota_pro_capite * c["popolazione"]).quantize(CENT, rounding=ROUND_HALF_UP)
                for c in comuni}


def quote_deliberate(comuni: list[dict], riparto: list[dict]) -> dict[str, Decimal]:
    """Each Comune's quota as the deliberation fixed it (``riparto`` already validated), in ``comuni``'s order."""
    importi = {r["istat"]: r["importo"] for r in riparto}
    return {c["istat"]: importi[c["istat"]] for c in comuni}


def ripartisci_in_rate(quota: Decimal, percentuali: list[Decimal]) -> list[Decimal]:
    """Split ``quota`` (to the cent) into instalments by ``percentuali`` (adding up to 100), to the cent.

    Largest remainder: each instalment is its exact share rounded down to the cent, then the missing cents go
    one each to the largest discarded remainders, ties to the earlier instalment. The instalments add up to
    ``quota`` exactly and each is within one cent of its exact share. Exact rational arithmetic throughout.
    """
    centesimi = int(quota.quantize(CENT).scaleb(2))
    esatte = [Fraction(centesimi) * Fraction(p) / 100 for p in percentuali]
    base = [int(e // 1) for e in esatte]  # floor (exact shares are ≥ 0)
    mancanti = centesimi - sum(base)
    ordine = sorted(range(len(esatte)), key=lambda i: (-(esatte[i] - base[i]), i))
    for i in ordine[:mancanti]:
        base[i] += 1
    return [Decimal(c).scaleb(-2).quantize(CENT) for c in base]


def _verifica_comuni(comuni: Any, metodo: str, comuni_ambito: set[str] | None) -> list[dict]:
    if not isinstance(comuni, list) or not comuni:
        raise RuleViolation("Almeno un Comune contribuisce.", rule="contributi.comuni", field="comuni")
    normalizzati: list[dict] = []
    for i, comune in enumerate(comuni):
        if not isinstance(comune, dict):
            raise RuleViolation("Ogni Comune è un oggetto {istat, nome, popolazione}.", rule="contributi.comuni",
                                field=f"comuni.{i}")
        istat = verifica_istat_comune(comune.get("istat"), f"comuni.{i}.istat")  # type: ignore[arg-type]
        nome = _testo(comune.get("nome"), rule="contributi.nome", field=f"comuni.{i}.nome", nome="Nome del Comune")
        popolazione = comune.get("popolazione")
        if popolazione is None and metodo == DELIBERATO:
            pass  # a deliberated split does not depend on the population: it may be omitted
        elif isinstance(popolazione, bool) or not isinstance(popolazione, int) or popolazione <= 0:
            raise RuleViolation("La popolazione residente è un numero intero positivo.",
                                rule="contributi.popolazione", field=f"comuni.{i}.popolazione")
        normalizzati.append({"istat": istat, "nome": nome, "popolazione": popolazione})
    istat_visti = [c["istat"] for c in normalizzati]
    doppi = sorted({x for x in istat_visti if istat_visti.count(x) > 1})
    if doppi:
        raise RuleViolation(f"Ogni Comune compare una volta: {', '.join(doppi)} ripetuti.",
                            rule="contributi.comuni_unici", field="comuni")
    if comuni_ambito is not None:
        estranei = sorted(set(istat_visti) - set(comuni_ambito))
        if estranei:
            raise RuleViolation(f"Comuni estranei all'Ambito: {', '.join(estranei)}.",
                                rule="contributi.comuni_ambito", field="comuni")
    return normalizzati


def _verifica_scadenze(scadenze: Any) -> list[dict]:
    if not isinstance(scadenze, list) or not scadenze:
        raise RuleViolation("Almeno una scadenza di versamento.", rule="contributi.scadenze", field="scadenze")
    normalizzate: list[dict] = []
    for i, scadenza in enumerate(scadenze):
        if not isinstance(scadenza, dict):
            raise RuleViolation("Ogni scadenza è un oggetto {data, percentuale}.", rule="contributi.scadenze",
                                field=f"scadenze.{i}")
        data = _data(scadenza.get("data"), rule="contributi.scadenze_data", field=f"scadenze.{i}.data")
        percentuale = _decimale(scadenza.get("percentuale"), rule="contributi.scadenze_percentuale",
                                field=f"scadenze.{i}.percentuale", nome="La percentuale")
        if not 0 < percentuale <= CENTO or _decimali(percentuale) > 2:
            raise RuleViolation("Una percentuale è maggiore di 0, al massimo 100, con al massimo 2 decimali.",
                                rule="contributi.scadenze_percentuale", field=f"scadenze.{i}.percentuale")
        normalizzate.append({"data": data, "percentuale": percentuale})
    date_viste = [s["data"] for s in normalizzate]
    if len(set(date_viste)) != len(date_viste):
        raise RuleViolation("Due scadenze non cadono nello stesso giorno.", rule="contributi.scadenze_date",
                            field="scadenze")
    totale = sum((s["percentuale"] for s in normalizzate), Decimal(0))
    if totale != CENTO:
        raise RuleViolation(f"Le percentuali delle scadenze sommano a {totale}, non a 100.",
                            rule="contributi.scadenze_somma", field="scadenze")
    return sorted(normalizzate, key=lambda s: s["data"])


def _verifica_riparto(riparto: Any, comuni: list[dict]) -> list[dict]:
    if not isinstance(riparto, list) or not riparto:
        raise RuleViolation("Il riparto deliberato indica l'importo di ogni Comune.",
                            rule="contributi.riparto_deliberato_completo", field="riparto")
    normalizzato: list[dict] = []
    for i, voce in enumerate(riparto):
        if not isinstance(voce, dict) or not isinstance(voce.get("istat"), str):
            raise RuleViolation("Ogni voce del riparto è un oggetto {istat, importo}.",
                                rule="contributi.riparto_deliberato_completo", field=f"riparto.{i}")
        importo = verifica_importo(voce.get("importo"), field=f"riparto.{i}.importo", positivo=False)
        normalizzato.append({"istat": voce["istat"], "importo": importo})
    nominati = [v["istat"] for v in normalizzato]
    attesi = [c["istat"] for c in comuni]
    if sorted(nominati) != sorted(attesi):
        mancanti = sorted(set(attesi) - set(nominati))
        estranei = sorted(set(nominati) - set(attesi))
        doppi = sorted({x for x in nominati if nominati.count(x) > 1})
        dettagli = "; ".join(f"{nome}: {', '.join(v)}" for nome, v in
                             (("mancanti", mancanti), ("estranei", estranei), ("ripetuti", doppi)) if v)
        raise RuleViolation(f"Il riparto deliberato nomina ogni Comune esattamente una volta ({dettagli}).",
                            rule="contributi.riparto_deliberato_completo", field="riparto")
    if sum((v["importo"] for v in normalizzato), ZERO) <= 0:
        raise RuleViolation("Il riparto deliberato ha un totale maggiore di zero.",
                            rule="contributi.riparto_deliberato_totale", field="riparto")
    return normalizzato


def prospetto(comuni: list[dict], scadenze: list[dict], *, quota_pro_capite: Decimal | None = None,
              popolazione_al: date | None = None, riparto: list[dict] | None = None,
              deliberazione_id: uuid.UUID | None = None, deliberazione_numero: str | None = None,
              comuni_ambito: set[str] | None = None) -> dict[str, Any]:
    """Validate the inputs and compute quotas and instalments (pure; no aggregate is created).

    Exactly one method: ``quota_pro_capite`` + ``popolazione_al`` (pro capite), or ``riparto`` +
    ``deliberazione_id`` + ``deliberazione_numero`` (split approved by deliberation). Returns the fields of
    the ``Determinati`` event except ``tenant_id``, ``anno`` and ``determinati_da``.
    """
    pro_capite = quota_pro_capite is not None or popolazione_al is not None
    deliberato = riparto is not None or deliberazione_id is not None or deliberazione_numero is not None
    if pro_capite == deliberato:
        raise RuleViolation("Le quote si determinano pro capite (quota_pro_capite e popolazione_al) oppure con un "
                            "riparto approvato da deliberazione (riparto, deliberazione_id, deliberazione_numero).",
                            rule="contributi.metodo", field="metodo")
    metodo = PRO_CAPITE if pro_capite else DELIBERATO
    comuni_ok = _verifica_comuni(comuni, metodo, comuni_ambito)
    scadenze_ok = _verifica_scadenze(scadenze)
    if metodo == PRO_CAPITE:
        quota = _decimale(quota_pro_capite, rule="contributi.quota_pro_capite", field="quota_pro_capite",
                          nome="La quota pro capite")
        if quota <= 0 or _decimali(quota) > DECIMALI_QUOTA_PRO_CAPITE:
            raise RuleViolation(f"La quota pro capite è maggiore di zero, con al massimo "
                                f"{DECIMALI_QUOTA_PRO_CAPITE} decimali.",
                                rule="contributi.quota_pro_capite", field="quota_pro_capite")
        riferimento = _data(popolazione_al, rule="contributi.popolazione_al", field="popolazione_al")
        quote = quote_pro_capite(comuni_ok, quota)
        criterio: dict[str, Any] = {"quota_pro_capite": quota, "popolazione_al": riferimento,
                                    "deliberazione_id": None, "deliberazione_numero": None}
    else:
        if not isinstance(deliberazione_id, uuid.UUID):
            raise RuleViolation("Il riparto deliberato indica l'id della deliberazione che lo approva.",
                                rule="contributi.deliberazione", field="deliberazione_id")
        if not isinstance(deliberazione_numero, str) or not _NUMERO_DELIBERAZIONE.match(deliberazione_numero):
            raise RuleViolation("Il numero della deliberazione è 'n/anno', ad esempio '3/2026'.",
                                rule="contributi.deliberazione", field="deliberazione_numero")
        quote = quote_deliberate(comuni_ok, _verifica_riparto(riparto, comuni_ok))
        criterio = {"quota_pro_capite": None, "popolazione_al": None, "deliberazione_id": deliberazione_id,
                    "deliberazione_numero": deliberazione_numero}
    percentuali = [s["percentuale"] for s in scadenze_ok]
    righe = [{**c, "quota": quote[c["istat"]], "rate": ripartisci_in_rate(quote[c["istat"]], percentuali)}
             for c in comuni_ok]
    return {"metodo": metodo, **criterio, "scadenze": scadenze_ok, "quote": righe,
            "totale": sum((r["quota"] for r in righe), ZERO)}


# ---------------------------------------------------------------- the aggregate


class ContributiComunali(TenantAggregate):
    """The Comuni's contributions of one Ambito for one year."""

    @staticmethod
    def create_id(tenant_id: str, anno: int, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "contributi-comunali", anno)

    class Determinati(TenantAggregate.Created):
        """v2 adds ``riparto_id``: the stored riparto whose result the deliberated quotas are (v1: none)."""

        class_version = 2
        tenant_id: str
        anno: int
        metodo: str
        quota_pro_capite: Decimal | None
        popolazione_al: date | None
        deliberazione_id: uuid.UUID | None
        deliberazione_numero: str | None
        scadenze: list[dict]
        quote: list[dict]
        totale: Decimal
        determinati_da: str
        riparto_id: uuid.UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["riparto_id"] = None

    @event(Determinati)
    def __init__(self, tenant_id: str, anno: int, metodo: str, quota_pro_capite: Decimal | None,
                 popolazione_al: date | None, deliberazione_id: uuid.UUID | None,
                 deliberazione_numero: str | None, scadenze: list[dict], quote: list[dict], totale: Decimal,
                 determinati_da: str, riparto_id: uuid.UUID | None = None) -> None:
        self.tenant_id = tenant_id
        self.riparto_id = riparto_id
        self.anno = anno
        self.metodo = metodo
        self.quota_pro_capite = quota_pro_capite
        self.popolazione_al = popolazione_al
        self.deliberazione_id = deliberazione_id
        self.deliberazione_numero = deliberazione_numero
        self.scadenze = [dict(s) for s in scadenze]
        #: istat -> {istat, nome, popolazione, quota, rate}, in the order of determination
        self.quote: dict[str, dict] = {q["istat"]: {**q, "rate": list(q["rate"])} for q in quote}
        self.totale = totale
        self.determinati_da = determinati_da
        #: reference key (case and spacing folded) -> {riferimento, istat, importo, data, registrato_da, storno}
        self.versamenti: dict[str, dict] = {}

    @classmethod
    def determina(cls, tenant_id: str, anno: int, comuni: list[dict], scadenze: list[dict], autore: str, *,
                  quota_pro_capite: Decimal | None = None, popolazione_al: date | None = None,
                  riparto: list[dict] | None = None, deliberazione_id: uuid.UUID | None = None,
                  deliberazione_numero: str | None = None,
                  comuni_ambito: set[str] | None = None, riparto_id: uuid.UUID | None = None) -> "ContributiComunali":
        """Determine the year's quotas (see ``prospetto``); one aggregate per Ambito and year. ``riparto_id``:
        the deliberated quotas are the result of this stored riparto among the Ambito's Comuni."""
        if isinstance(anno, bool) or not isinstance(anno, int) or not 2000 <= anno <= 2100:
            raise RuleViolation("L'anno dei contributi è compreso tra 2000 e 2100.", rule="contributi.anno",
                                field="anno")
        calcolo = prospetto(comuni, scadenze, quota_pro_capite=quota_pro_capite, popolazione_al=popolazione_al,
                            riparto=riparto, deliberazione_id=deliberazione_id,
                            deliberazione_numero=deliberazione_numero, comuni_ambito=comuni_ambito)
        if riparto_id is not None and calcolo["metodo"] != DELIBERATO:
            raise RuleViolation("Le quote prese da un riparto sono un riparto deliberato.", rule="contributi.metodo",
                                field="riparto_id")
        return cls(tenant_id=tenant_id, anno=anno, determinati_da=autore, riparto_id=riparto_id, **calcolo)

    # ------------------------------------------------------------ commands

    def registra_versamento(self, istat: str, importo: Decimal, data: date, riferimento: str,
                            autore: str) -> None:
        """Record a payment received from a Comune; never above what it still owes."""
        self._comune(istat, dai_dati=True)
        importo = verifica_importo(importo)
        data = _data(data, rule="contributi.data", field="data")
        riferimento = _testo(riferimento, rule="contributi.riferimento", field="riferimento",
                             nome="Riferimento del versamento (reversale, quietanza)", max_length=100)
        if _chiave_riferimento(riferimento) in self.versamenti:
            raise Conflict(f"Il versamento con riferimento {riferimento!r} è già registrato.",
                           rule="contributi.riferimento_unico", field="riferimento")
        residuo = self.residuo(istat)
        if importo > residuo:
            raise RuleViolation(f"Il versamento di {_cent(importo)} € supera quanto il Comune {istat} deve ancora "
                                f"({_cent(residuo)} €).", rule="contributi.versamento_eccedente", field="importo")
        self._versamento(istat=istat, importo=importo, data=data,
                         riferimento=riferimento, registrato_da=autore)

    @event("VersamentoRegistrato")
    def _versamento(self, istat: str, importo: Decimal, data: date, riferimento: str,
                    registrato_da: str) -> None:
        self.versamenti[_chiave_riferimento(riferimento)] = {
            "riferimento": riferimento, "istat": istat, "importo": importo, "data": data,
            "registrato_da": registrato_da, "storno": None}

    def storna_versamento(self, riferimento: str, data: date, motivo: str, autore: str) -> None:
        """Void a recorded payment (wrong entry, cancelled reversale): it then counts at no date."""
        versamento = self.versamenti.get(_chiave_riferimento(riferimento)) if isinstance(riferimento, str) else None
        if versamento is None:
            raise NotFound(f"Nessun versamento con riferimento {riferimento!r}.", rule="contributi.versamento",
                           field="riferimento")
        if versamento["storno"] is not None:
            raise Conflict(f"Il versamento {versamento['riferimento']!r} è già stornato.",
                           rule="contributi.storno_unico", field="riferimento")
        data = _data(data, rule="contributi.data", field="data")
        motivo = _testo(motivo, rule="contributi.motivo", field="motivo", nome="Motivo dello storno",
                        max_length=500)
        self._stornato(riferimento=versamento["riferimento"], istat=versamento["istat"],
                       importo=versamento["importo"], data=data, motivo=motivo, stornato_da=autore)

    @event("VersamentoStornato")
    def _stornato(self, riferimento: str, istat: str, importo: Decimal, data: date, motivo: str,
                  stornato_da: str) -> None:
        self.versamenti[_chiave_riferimento(riferimento)]["storno"] = {
            "data": data, "motivo": motivo, "stornato_da": stornato_da}

    # ------------------------------------------------------------ queries (pure)

    def _comune(self, istat: str, *, dai_dati: bool = False) -> dict:
        quota = self.quote.get(istat) if isinstance(istat, str) else None
        if quota is None:
            messaggio = f"Il Comune {istat!r} non contribuisce all'Ambito per il {self.anno}."
            if dai_dati:
                raise RuleViolation(messaggio, rule="contributi.comune", field="istat")
            raise NotFound(messaggio, rule="contributi.comune", field="istat")
        return quota

    @property
    def comuni(self) -> list[str]:
        """The contributing Comuni's ISTAT codes, in the order of determination."""
        return list(self.quote)

    def rate(self, istat: str) -> list[dict]:
        """The Comune's instalments: ``[{"data": date, "percentuale": Decimal, "importo": Decimal}]``."""
        quota = self._comune(istat)
        return [{"data": s["data"], "percentuale": s["percentuale"], "importo": importo}
                for s, importo in zip(self.scadenze, quota["rate"], strict=True)]

    def dovuto(self, istat: str) -> Decimal:
        """The Comune's quota for the year."""
        return self._comune(istat)["quota"]

    def dovuto_scaduto(self, istat: str, al: date) -> Decimal:
        """The sum of the Comune's instalments due on or before ``al``."""
        quota = self._comune(istat)
        return sum((importo for s, importo in zip(self.scadenze, quota["rate"], strict=True) if s["data"] <= al),
                   ZERO)

    def versamenti_di(self, istat: str, *, anche_stornati: bool = False) -> list[dict]:
        """The Comune's payments in recording order (copies): {riferimento, istat, importo, data, registrato_da,
        storno: None | {data, motivo, stornato_da}}."""
        self._comune(istat)
        return [{**v, "storno": None if v["storno"] is None else dict(v["storno"])} for v in self.versamenti.values()
                if v["istat"] == istat and (anche_stornati or v["storno"] is None)]

    def versato(self, istat: str, al: date | None = None) -> Decimal:
        """Payments received from the Comune (dated on or before ``al`` if given), reversed ones excluded."""
        return sum((v["importo"] for v in self.versamenti_di(istat) if al is None or v["data"] <= al), ZERO)

    def residuo(self, istat: str) -> Decimal:
        """What the Comune still owes for the year (never negative)."""
        return self.dovuto(istat) - self.versato(istat)

    def arretrato(self, istat: str, al: date) -> Decimal:
        """Arrears at ``al``: max(0, dovuto_scaduto(al) − versato(al))."""
        return max(ZERO, self.dovuto_scaduto(istat, al) - self.versato(istat, al))

    def totali(self, al: date) -> dict[str, Decimal]:
        """The Ambito's totals at ``al``: dovuto, dovuto_scaduto, versato, residuo, arretrato.

        ``arretrato`` is the sum of each Comune's arrears (one Comune's advance payment does not offset
        another's arrears); ``versato`` counts payments dated on or before ``al``; ``residuo`` is what is still
        owed today, whatever ``al``.
        """
        righe = [self._cifre(istat, al) for istat in self.quote]
        return {chiave: sum((r[chiave] for r in righe), ZERO)
                for chiave in ("dovuto", "dovuto_scaduto", "versato", "residuo", "arretrato")}

    def _cifre(self, istat: str, al: date) -> dict[str, Decimal]:
        return {"dovuto": self.dovuto(istat), "dovuto_scaduto": self.dovuto_scaduto(istat, al),
                "versato": self.versato(istat, al), "residuo": self.residuo(istat),
                "arretrato": self.arretrato(istat, al)}

    def situazione(self, al: date) -> list[dict]:
        """One JSON-safe row per Comune (order of determination); amounts as strings with 2 decimals.

        ``{"istat", "nome", "popolazione" (int or None), "dovuto", "dovuto_scaduto", "versato", "residuo",
        "arretrato", "rate": [{"data": "YYYY-MM-DD", "percentuale": "50", "importo": "..."}]}``
        """
        return [{"istat": istat, "nome": q["nome"], "popolazione": q["popolazione"],
                 **{k: _cent(v) for k, v in self._cifre(istat, al).items()},
                 "rate": [{"data": r["data"].isoformat(), "percentuale": str(r["percentuale"]),
                           "importo": _cent(r["importo"])} for r in self.rate(istat)]}
                for istat, q in self.quote.items()]
