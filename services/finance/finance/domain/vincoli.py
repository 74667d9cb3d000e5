"""Fund constraints as reference data, measured on spending (pure functions, no I/O).

A fund's annualità may carry a legal constraint on what its money pays for: a minimum share to a
target area, to persons in a given condition, or to a closed list of services. The law measures
them on what is spent, never on what is merely allocated, so each constraint is measured twice:

- on **commitments** (*impegni*, net of their reductions: disimpegni and economie);
- on **payments** (*mandati di pagamento*).

The classification comes from the approved Piano: each intervento may carry ``area_utenza``,
``disabilita_gravissima`` and ``servizio_qsfp`` (planning's ``versione_approvata``, kept on the
budget lines finance receives). Spending on an intervento that lacks the classification a
constraint needs is shown as **non classificata**: it is never counted on either side of the
share, and while it could change the outcome the constraint is ``non_valutabile``.

Outcome, with exact arithmetic (no rounding decides it):

- ``rispettato`` when numeratore × 100 ≥ denominatore × soglia;
- ``non_rispettato`` when even all the unclassified spending counted towards it would not reach it;
- ``non_valutabile`` when nothing is spent yet, or the unclassified spending could make up the gap.

The shown share is rounded **down** to two decimals, so it never reads as met when it is not.

Scope: the FNPS and FNA quotas are set by the riparto decrees on the resources of each Region, which
checks them across its Ambiti; what is computed here is the Ambito's own contribution to them,
from its own ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Iterable, Literal, Mapping

ZERO = Decimal("0.00")
CENTO = Decimal(100)

Esito = Literal["rispettato", "non_rispettato", "non_valutabile"]
Criterio = Literal["area_utenza", "disabilita_gravissima", "servizio_qsfp"]
BASI = ("impegni", "mandati")


@dataclass(frozen=True)
class Vincolo:
    """One constraint of a fund over a range of annualità (``al`` None: until a new act says otherwise)."""

    codice: str
    fondo: str
    dal: int
    al: int | None
    criterio: Criterio
    #: the value of the criterion that counts: an area, True (gravissima), or "a-h" (any service of the list)
    valore: str | bool
    soglia_percentuale: Decimal
    descrizione: str
    fonte: str

    def vale_per(self, fondo: str, annualita: int) -> bool:
        return fondo == self.fondo and self.dal <= annualita and (self.al is None or annualita <= self.al)


#: The constraints known to the platform, with their source. A fund annualità outside every range has
#: no constraint recorded here (the API says so) — never a guessed one.
VINCOLI: tuple[Vincolo, ...] = (
    Vincolo(
        codice="fnps_minori_40", fondo="FNPS", dal=2018, al=2019, criterio="area_utenza", valore="minori_famiglie",
        soglia_percentuale=Decimal(40),
        descrizione="Almeno il 40% delle risorse FNPS a interventi e servizi per l'infanzia e l'adolescenza.",
        fonte="Piano sociale nazionale 2018–2020 (D.Lgs. 147/2017, art. 21) e decreti di riparto del FNPS "
              "delle annualità 2018 e 2019, come stabilito nei decreti di riparto (quota poi elevata al 50% dal "
              "D.I. 19 novembre 2020)."),
    Vincolo(
        codice="fnps_minori_50", fondo="FNPS", dal=2020, al=2023, criterio="area_utenza", valore="minori_famiglie",
        soglia_percentuale=Decimal(50),
        descrizione="Almeno il 50% delle risorse FNPS a interventi e servizi per l'infanzia e l'adolescenza "
                    "(prima del 2020: 40%).",
        fonte="D.I. 19 novembre 2020, riparto del FNPS 2020 (G.U. n. 41 del 18 febbraio 2021), che eleva la quota "
              "dal 40% al 50%; confermata dal Piano nazionale degli interventi e dei servizi sociali 2021–2023 "
              "(par. 2.5), adottato con il D.M. 22 ottobre 2021 di riparto del FNPS 2021, per le annualità "
              "2021–2023."),
    Vincolo(
        codice="fna_gravissime_50", fondo="FNA", dal=2022, al=2024, criterio="disabilita_gravissima", valore=True,
        soglia_percentuale=Decimal(50),
        descrizione="Almeno il 50% delle risorse FNA a interventi per persone in condizione di disabilità "
                    "gravissima (definita dal DM 26 settembre 2016, art. 3).",
        fonte="D.P.C.M. 3 ottobre 2022, Piano nazionale per la non autosufficienza 2022–2024 e riparto del FNA "
              "2022–2024 (G.U. n. 294 del 17 dicembre 2022), come stabilito nel decreto di riparto; definizione "
              "della disabilità gravissima: DM 26 settembre 2016, art. 3."),
    Vincolo(
        codice="qsfp_servizi_art7", fondo="QSFP", dal=2018, al=None, criterio="servizio_qsfp", valore="a-h",
        soglia_percentuale=Decimal(100),
        descrizione="La quota servizi del Fondo Povertà finanzia soltanto i servizi del D.Lgs. 147/2017, art. 7, "
                    "comma 1, lettere a–h.",
        fonte="D.Lgs. 15 settembre 2017, n. 147, art. 7, commi 1 e 2."),
)


def vincoli_di(fondo: str, annualita: int, catalogo: Iterable[Vincolo] = VINCOLI) -> list[Vincolo]:
    """The constraints that apply to one fund annualità."""
    return [v for v in catalogo if v.vale_per(fondo, annualita)]


@dataclass(frozen=True)
class SpesaClassificata:
    """What one intervento spent of one fund annualità (commitments net of reductions, and payments), with
    the intervento's classification as the Piano in force gives it (None: not given)."""

    intervento: str
    impegnato: Decimal
    pagato: Decimal
    area_utenza: str | None = None
    disabilita_gravissima: bool | None = None
    servizio_qsfp: str | None = None


def conta(vincolo: Vincolo, spesa: SpesaClassificata) -> bool | None:
    """Whether the spending counts towards the constraint: True, False, or None when not classified."""
    if vincolo.criterio == "area_utenza":
        return None if spesa.area_utenza is None else spesa.area_utenza == vincolo.valore
    if vincolo.criterio == "disabilita_gravissima":
        return None if spesa.disabilita_gravissima is None else spesa.disabilita_gravissima is True
    # servizio_qsfp: a letter a-h counts; no letter cannot be told from "not classified"
    return True if spesa.servizio_qsfp is not None else None


@dataclass(frozen=True)
class Misura:
    base: str  # impegni | mandati
    numeratore: Decimal
    denominatore: Decimal
    non_classificata: Decimal
    quota_percentuale: Decimal | None
    soglia_percentuale: Decimal
    esito: Esito
    interventi_non_classificati: tuple[str, ...]
    motivazione: str


def misura(vincolo: Vincolo, spese: Iterable[SpesaClassificata], base: str) -> Misura:
    """The constraint measured on ``base`` (``impegni``: net commitments; ``mandati``: payments)."""
    if base not in BASI:
        raise ValueError(base)
    numeratore = denominatore = non_classificata = ZERO
    senza: set[str] = set()
    for s in spese:
        importo = s.impegnato if base == "impegni" else s.pagato
        if importo == 0:
            continue
        denominatore += importo
        esito = conta(vincolo, s)
        if esito is None:
            non_classificata += importo
            senza.add(s.intervento)
        elif esito:
            numeratore += importo
    soglia = vincolo.soglia_percentuale
    nome = "impegnato" if base == "impegni" else "pagato"
    if denominatore == 0:
        return Misura(base, numeratore, denominatore, non_classificata, None, soglia, "non_valutabile", (),
                      f"Nulla di {nome} sull'annualità: il vincolo non è ancora valutabile.")
    quota = (numeratore * CENTO / denominatore).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    testo = f"{quota}% del {nome} ({numeratore} € su {denominatore} €) contro un minimo del {soglia}%"
    if numeratore * CENTO >= denominatore * soglia:
        esito_: Esito = "rispettato"
        testo += ": rispettato."
    elif (numeratore + non_classificata) * CENTO >= denominatore * soglia:
        esito_ = "non_valutabile"
        testo += (f"; {non_classificata} € su interventi non classificati potrebbero colmare la differenza: "
                  "classificarli nel Piano per valutare il vincolo.")
    else:
        esito_ = "non_rispettato"
        testo += ": non rispettato."
    if non_classificata and esito_ != "non_valutabile":
        testo += f" Spesa non classificata: {non_classificata} €."
    return Misura(base, numeratore, denominatore, non_classificata, quota, soglia, esito_, tuple(sorted(senza)), testo)


@dataclass(frozen=True)
class VincoloMisurato:
    fondo: str
    annualita: int
    vincolo: Vincolo
    impegni: Misura
    mandati: Misura


def misura_vincoli(spese: Mapping[tuple[str, int], Iterable[SpesaClassificata]],
                   fondo: str | None = None, annualita: int | None = None,
                   catalogo: Iterable[Vincolo] = VINCOLI) -> list[VincoloMisurato]:
    """Every constraint of every fund annualità in ``spese`` (plus the asked one, even with no spending),
    measured on commitments and on payments."""
    chiavi = set(spese)
    if fondo is not None and annualita is not None:
        chiavi.add((fondo, annualita))
    catalogo = tuple(catalogo)
    out = []
    for f, anno in sorted(chiavi):
        if (fondo is not None and f != fondo) or (annualita is not None and anno != annualita):
            continue
        righe = list(spese.get((f, anno), ()))
        for v in vincoli_di(f, anno, catalogo):
            out.append(VincoloMisurato(f, anno, v, misura(v, righe, "impegni"), misura(v, righe, "mandati")))
    return out
