"""Co-programmazione and co-progettazione (art. 55 D.Lgs. 117/2017, DM 72/2021).

A ``Procedura`` moves through its steps in order, each an event carrying its act:

    avviso pubblicato → manifestazioni d'interesse ricevute → ammissione decisa per ente
    → sessioni (tavolo di co-progettazione, verbale) → progetto condiviso → convenzione stipulata

Expressions of interest are accepted until the first admission decision or the notice's
deadline; sessions start once every expression has its decision and at least one ente was
admitted; only the admitted take part. A co-programmazione ends with the shared document
(``ProgettoCondiviso``); only a co-progettazione ends with a convenzione, signed by one
admitted ente or by an ATS (temporary association) of admitted enti, whose budget by year
adds up to its amount.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate
from ambiti_kit.values import euro, importo, positivo

from partnership.domain.valori import verifica_atto, verifica_testo_libero

TIPI = ("co_programmazione", "co_progettazione")
FASI = ("avviso_pubblicato", "ammissione", "sessioni", "progetto_condiviso", "convenzione_stipulata")


def _fase(procedura: "Procedura", *ammesse: str) -> None:
    if procedura.fase not in ammesse:
        raise Conflict(f"La procedura è nella fase '{procedura.fase}': il passo richiede la fase "
                       f"{' o '.join(repr(f) for f in ammesse)}.", rule="procedura.ordine_fasi")


def verifica_budget(totale: Decimal, budget: list[dict], decorrenza: date, durata_mesi: int) -> list[dict]:
    """The convenzione's budget by year: one line per year within its duration, adding up to its amount."""
    if not budget:
        raise RuleViolation("La convenzione ha un budget per anno.", rule="convenzione.budget", field="budget")
    fine = decorrenza.year + (decorrenza.month - 1 + durata_mesi - 1) // 12
    righe, anni = [], set()
    for i, riga in enumerate(budget):
        anno = riga["anno"]
        if not decorrenza.year <= anno <= fine:
            raise RuleViolation(f"L'anno {anno} è fuori dalla durata della convenzione ({decorrenza.year}–{fine}).",
                                rule="convenzione.anno_budget", field=f"budget.{i}.anno")
        if anno in anni:
            raise RuleViolation("Una sola riga di budget per anno.", rule="convenzione.anno_unico",
                                field=f"budget.{i}.anno")
        anni.add(anno)
        righe.append({"anno": anno, "importo": importo(riga["importo"], f"budget.{i}.importo")})
    somma = sum((r["importo"] for r in righe), Decimal(0))
    if somma != totale:
        raise RuleViolation(f"Il budget per anno somma {euro(somma)} €, la convenzione vale {euro(totale)} €.",
                            rule="convenzione.budget_totale", field="budget")
    return sorted(righe, key=lambda r: r["anno"])


class Procedura(TenantAggregate):
    @event("AvvisoPubblicato")
    def __init__(self, tenant_id: str, tipo: str, oggetto: str, scadenza_manifestazioni: date,
                 piano_id: uuid.UUID | None, intervento: str | None, atto: dict, pubblicato_da: str) -> None:
        self.tenant_id = tenant_id
        self.tipo = tipo
        self.oggetto = oggetto
        self.scadenza_manifestazioni = scadenza_manifestazioni
        self.piano_id = piano_id
        self.intervento = intervento
        self.avviso = atto
        self.fase = "avviso_pubblicato"
        self.manifestazioni: dict[str, dict] = {}
        self.ammissioni: dict[str, dict] = {}
        self.sessioni: list[dict] = []
        self.progetto: dict | None = None
        self.convenzione: dict | None = None

    @classmethod
    def pubblica_avviso(cls, tenant_id: str, tipo: str, oggetto: str, scadenza_manifestazioni: date,
                        piano_id: uuid.UUID | None, intervento: str | None, atto: dict, autore: str) -> "Procedura":
        if tipo not in TIPI:
            raise RuleViolation(f"Tipo di procedura non ammesso: {tipo!r} (co_programmazione, co_progettazione).",
                                rule="procedura.tipo", field="tipo")
        if len(oggetto.strip()) < 3:
            raise RuleViolation("La procedura ha un oggetto.", rule="procedura.oggetto", field="oggetto")
        atto = verifica_atto(atto)
        if scadenza_manifestazioni < atto["data"]:
            raise RuleViolation("La scadenza delle manifestazioni segue la pubblicazione dell'avviso.",
                                rule="procedura.scadenza", field="scadenza_manifestazioni")
        return cls(tenant_id=tenant_id, tipo=tipo, oggetto=oggetto.strip(),
                   scadenza_manifestazioni=scadenza_manifestazioni, piano_id=piano_id, intervento=intervento,
                   atto=atto, pubblicato_da=autore)

    # -- manifestazioni d'interesse --------------------------------------------------------
    def ricevi_manifestazione(self, ente: dict, sintesi_documenti: str, ricevuta_il: date, atto: dict,
                              autore: str) -> None:
        """An ente's expression of interest (``ente`` as ``Ente.come_parte()``), registered with its protocol."""
        _fase(self, "avviso_pubblicato")
        if ricevuta_il > self.scadenza_manifestazioni:
            raise RuleViolation(f"Le manifestazioni si ricevono entro il {self.scadenza_manifestazioni.isoformat()}.",
                                rule="procedura.termine_manifestazioni", field="ricevuta_il")
        if ricevuta_il < self.avviso["data"]:
            raise RuleViolation("Una manifestazione non precede l'avviso.", rule="procedura.termine_manifestazioni",
                                field="ricevuta_il")
        if ente["codice_fiscale"] in self.manifestazioni:
            raise Conflict("L'ente ha già manifestato interesse.", rule="procedura.manifestazione_unica")
        verifica_testo_libero(sintesi_documenti, "sintesi_documenti")
        self._manifestazione(ente=ente, sintesi_documenti=sintesi_documenti.strip(),
                             ricevuta_il=ricevuta_il, atto=verifica_atto(atto), registrata_da=autore)

    @event("ManifestazioneRicevuta")
    def _manifestazione(self, ente: dict, sintesi_documenti: str, ricevuta_il: date, atto: dict,
                        registrata_da: str) -> None:
        self.manifestazioni[ente["codice_fiscale"]] = {**ente, "sintesi_documenti": sintesi_documenti,
                                                       "ricevuta_il": ricevuta_il, "atto": atto}

    # -- ammissione ------------------------------------------------------------------------
    def decidi_ammissione(self, codice_fiscale: str, ammesso: bool, motivazione: str, atto: dict,
                          autore: str) -> None:
        _fase(self, "avviso_pubblicato", "ammissione")
        if codice_fiscale not in self.manifestazioni:
            raise RuleViolation("L'ente non ha manifestato interesse.", rule="procedura.manifestazione_presente",
                                field="codice_fiscale")
        if codice_fiscale in self.ammissioni:
            raise Conflict("L'ammissione di questo ente è già decisa.", rule="procedura.ammissione_unica")
        if len(motivazione.strip()) < 5:
            raise RuleViolation("La decisione sull'ammissione è motivata.", rule="procedura.motivazione",
                                field="motivazione")
        verifica_testo_libero(motivazione, "motivazione")
        self._ammissione(codice_fiscale=codice_fiscale, ammesso=ammesso,
                         motivazione=motivazione.strip(), atto=verifica_atto(atto), decisa_da=autore)

    @event("AmmissioneDecisa")
    def _ammissione(self, codice_fiscale: str, ammesso: bool, motivazione: str, atto: dict,
                    decisa_da: str) -> None:
        self.ammissioni[codice_fiscale] = {"ammesso": ammesso, "motivazione": motivazione, "atto": atto}
        self.fase = "ammissione"

    @property
    def ammissioni_complete(self) -> bool:
        return bool(self.manifestazioni) and set(self.manifestazioni) == set(self.ammissioni)

    @property
    def ammessi(self) -> list[str]:
        return [cf for cf, a in self.ammissioni.items() if a["ammesso"]]

    # -- sessioni --------------------------------------------------------------------------
    def registra_sessione(self, data: date, partecipanti: list[str], verbale: str, tavolo_id: uuid.UUID | None,
                          atto: dict, autore: str) -> int:
        """A session of the tavolo di co-progettazione (or co-programmazione); returns its number."""
        _fase(self, "ammissione", "sessioni")
        if not self.ammissioni_complete:
            raise Conflict("Decidere prima l'ammissione di ogni ente che ha manifestato interesse.",
                           rule="procedura.ammissioni_complete")
        if not self.ammessi:
            raise Conflict("Nessun ente è stato ammesso: la procedura non prosegue.", rule="procedura.nessun_ammesso")
        if not partecipanti:
            raise RuleViolation("La sessione ha almeno un partecipante.", rule="sessione.partecipanti",
                                field="partecipanti")
        estranei = sorted(set(partecipanti) - set(self.ammessi))
        if estranei:
            raise RuleViolation(f"Partecipano solo gli enti ammessi: {', '.join(estranei)}.",
                                rule="sessione.partecipanti_ammessi", field="partecipanti")
        if len(verbale.strip()) < 10:
            raise RuleViolation("La sessione ha un verbale.", rule="sessione.verbale", field="verbale")
        verifica_testo_libero(verbale, "verbale")
        numero = len(self.sessioni) + 1
        self._sessione(numero=numero, data=data, partecipanti=sorted(set(partecipanti)),
                       verbale=verbale.strip(), tavolo_id=tavolo_id, atto=verifica_atto(atto), registrata_da=autore)
        return numero

    @event("SessioneTenuta")
    def _sessione(self, numero: int, data: date, partecipanti: list[str], verbale: str,
                  tavolo_id: uuid.UUID | None, atto: dict, registrata_da: str) -> None:
        self.sessioni.append({"numero": numero, "data": data, "partecipanti": list(partecipanti), "verbale": verbale,
                              "tavolo_id": tavolo_id, "atto": atto})
        self.fase = "sessioni"

    # -- progetto condiviso -----------------------------------------------------------------
    def condividi_progetto(self, titolo: str, sintesi: str, atto: dict, autore: str) -> None:
        _fase(self, "sessioni")
        if len(titolo.strip()) < 3:
            raise RuleViolation("Il progetto condiviso ha un titolo.", rule="progetto.titolo", field="titolo")
        verifica_testo_libero(titolo, "titolo")
        verifica_testo_libero(sintesi, "sintesi")
        self._progetto(titolo=titolo.strip(), sintesi=sintesi.strip(),
                       atto=verifica_atto(atto), condiviso_da=autore)

    @event("ProgettoCondiviso")
    def _progetto(self, titolo: str, sintesi: str, atto: dict, condiviso_da: str) -> None:
        self.progetto = {"titolo": titolo, "sintesi": sintesi, "atto": atto}
        self.fase = "progetto_condiviso"

    # -- convenzione -----------------------------------------------------------------------
    def stipula_convenzione(self, enti: list[str], capofila: str | None, importo_totale: Decimal, decorrenza: date,
                            durata_mesi: int, budget: list[dict], atto: dict, autore: str) -> None:
        """The convenzione with one admitted ente, or with an ATS of admitted enti led by ``capofila``."""
        if self.tipo != "co_progettazione":
            raise Conflict("La co-programmazione si conclude con il documento condiviso, senza convenzione.",
                           rule="procedura.convenzione_solo_coprogettazione")
        _fase(self, "progetto_condiviso")
        if not enti or len(set(enti)) != len(enti):
            raise RuleViolation("La convenzione si stipula con uno o più enti, ciascuno una volta.",
                                rule="convenzione.contraenti", field="enti")
        non_ammessi = sorted(set(enti) - set(self.ammessi))
        if non_ammessi:
            raise RuleViolation(f"Solo gli enti ammessi stipulano la convenzione: {', '.join(non_ammessi)}.",
                                rule="convenzione.contraenti_ammessi", field="enti")
        if len(enti) == 1:
            forma, capofila = "ente", enti[0]
        else:
            forma = "ats"
            if capofila not in enti:
                raise RuleViolation("Un'ATS indica il capofila tra i suoi enti.", rule="convenzione.capofila_ats",
                                    field="capofila")
        if not 1 <= durata_mesi <= 120:
            raise RuleViolation("La durata è tra 1 e 120 mesi.", rule="convenzione.durata", field="durata_mesi")
        totale = positivo(importo_totale)
        righe = verifica_budget(totale, budget, decorrenza, durata_mesi)
        contraenti = [{"codice_fiscale": cf, "denominazione": self.manifestazioni[cf]["denominazione"]}
                      for cf in enti]
        self._convenzione(forma=forma, contraenti=contraenti, capofila=capofila,
                          importo=totale, decorrenza=decorrenza, durata_mesi=durata_mesi, budget=righe,
                          atto=verifica_atto(atto), stipulata_da=autore)

    @event("ConvenzioneStipulata")
    def _convenzione(self, forma: str, contraenti: list[dict], capofila: str, importo: Decimal,
                     decorrenza: date, durata_mesi: int, budget: list[dict], atto: dict, stipulata_da: str) -> None:
        self.convenzione = {"forma": forma, "contraenti": [dict(c) for c in contraenti], "capofila": capofila,
                            "importo": importo, "decorrenza": decorrenza, "durata_mesi": durata_mesi,
                            "budget": [dict(r) for r in budget], "atto": atto}
        self.fase = "convenzione_stipulata"

    # -- reading ---------------------------------------------------------------------------
    def partecipa(self, codice_fiscale: str) -> bool:
        return codice_fiscale in self.manifestazioni

    def vista_per_ente(self, codice_fiscale: str) -> dict[str, Any]:
        """What a referente of one ente may see: its own expression of interest and decision; the others'
        only once every admission is decided, and then by name and outcome alone (never their documents)."""
        propria = self.manifestazioni.get(codice_fiscale)
        altre: list[dict] = []
        if self.ammissioni_complete:
            altre = [{"codice_fiscale": cf, "denominazione": m["denominazione"],
                      "ammesso": self.ammissioni[cf]["ammesso"]}
                     for cf, m in self.manifestazioni.items() if cf != codice_fiscale]
        return {"propria": propria, "ammissione": self.ammissioni.get(codice_fiscale), "altre": altre}
