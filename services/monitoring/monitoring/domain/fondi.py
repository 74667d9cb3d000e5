"""Fund conditions the Region oversees, computed from aggregate figures per Ambito (pure, no I/O).

The Fondo Povertà condition (``condizione_fondo_poverta_regionale``): the yearly quota servizi of the
Fondo Povertà (QSFP) is paid only once at least 75% of the quota of the second preceding annualità
(N−2) has been reported ("rendicontato"), and the condition is assessed **per Region**, over all the
Ambiti of the Region together — not per Ambito. Source: D.L. 48/2023, art. 6, comma 11, which wrote
into law the condition the Fondo Povertà riparto decrees already set (D.Lgs. 147/2017, art. 7; Piano
nazionale per gli interventi e i servizi sociali di contrasto alla povertà); its application was
later postponed (D.L. 95/2025, art. 5, comma 7-bis). These are the references finance's rendicontazione
cites for the Ambito's own share (``FONTE_FONDO_POVERTA`` there): the two services must say the same.

*Rendicontato* = **liquidato** (liquidated against verified invoices), as finance counts it for the
Ambito; the base is what the Region's Ambiti were assigned of QSFP N−2.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Literal, Mapping

FONDO_POVERTA = "QSFP"
SOGLIA_FONDO_POVERTA = Decimal(75)
DISTANZA_FONDO_POVERTA = 2
FONTE_FONDO_POVERTA = (
    "D.L. 48/2023, art. 6, comma 11: l'erogazione della quota annuale del Fondo Povertà (quota servizi) è "
    "condizionata alla rendicontazione di almeno il 75% della quota della seconda annualità precedente, su base "
    "regionale; condizione già prevista dai decreti di riparto in attuazione del D.Lgs. 147/2017 (art. 7) e "
    "del Piano nazionale per gli interventi e i servizi sociali di contrasto alla povertà; applicazione "
    "differita dal D.L. 95/2025, art. 5, comma 7-bis")
CRITERIO_RENDICONTATO = "rendicontato = liquidato (somme liquidate su fatture verificate), come in finance"
ZERO = Decimal("0.00")
CENTESIMO = Decimal("0.01")
CENTO = Decimal(100)

Stato = Literal["rispettata", "non_rispettata", "non_valutabile"]


@dataclass(frozen=True)
class QuotaAmbito:
    ambito: str
    assegnato: Decimal
    rendicontato: Decimal
    #: rendicontato / assegnato × 100, two decimals rounded down (None without an assignment)
    percentuale: Decimal | None


@dataclass(frozen=True)
class CondizioneRegionale:
    annualita: int
    annualita_riferimento: int
    assegnato: Decimal
    rendicontato: Decimal
    percentuale: Decimal | None
    soglia_percentuale: Decimal
    soglia_importo: Decimal | None
    mancante: Decimal | None
    stato: Stato
    ambiti: list[QuotaAmbito]
    criterio: str = CRITERIO_RENDICONTATO
    fonte: str = FONTE_FONDO_POVERTA


def percentuale(parte: Decimal, base: Decimal) -> Decimal | None:
    return None if base <= 0 else (parte * CENTO / base).quantize(CENTESIMO, rounding=ROUND_DOWN)


def condizione_fondo_poverta_regionale(annualita: int,
                                       per_ambito: Mapping[str, tuple[Decimal, Decimal]]) -> CondizioneRegionale:
    """The condition for QSFP ``annualita`` over the Region: ``per_ambito`` maps each Ambito to its QSFP
    (assegnato, liquidato) of annualità N−2.

    ``rispettata`` ⇔ Σ liquidato × 100 ≥ Σ assegnato × 75 (exact, no rounding); ``non_valutabile`` when the
    Region's Ambiti have no QSFP N−2 assigned. ``mancante`` (what the Region still has to report) is rounded
    up to the cent; ``percentuale`` down (so 74.999…% never shows as 75.00%).
    """
    assegnato = sum((a for a, _ in per_ambito.values()), ZERO)
    fatto = sum((liq for _, liq in per_ambito.values()), ZERO)
    ambiti = [QuotaAmbito(t, a, liq, percentuale(liq, a)) for t, (a, liq) in sorted(per_ambito.items())]
    rif = annualita - DISTANZA_FONDO_POVERTA
    if assegnato <= 0:
        return CondizioneRegionale(annualita, rif, assegnato, fatto, None, SOGLIA_FONDO_POVERTA, None, None,
                                   "non_valutabile", ambiti)
    ok = fatto * CENTO >= assegnato * SOGLIA_FONDO_POVERTA
    soglia = assegnato * SOGLIA_FONDO_POVERTA / CENTO
    mancante = ZERO if ok else (soglia - fatto).quantize(CENTESIMO, rounding=ROUND_CEILING)
    return CondizioneRegionale(annualita, rif, assegnato, fatto, percentuale(fatto, assegnato), SOGLIA_FONDO_POVERTA,
                               soglia.quantize(CENTESIMO, rounding=ROUND_CEILING), mancante,
                               "rispettata" if ok else "non_rispettata", ambiti)
