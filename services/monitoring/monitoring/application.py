"""The monitoring application: services delivered and staff, stored as monitoring's own events.

Its read models are filled from its own events in process (``monitoring.projections.OWN``:
a write is in the lists when its response leaves) and from planning's and finance's events
over Kafka (``monitoring.integration.inbound``). The Ambito's Comuni and
their periods of membership come from the read model (``appartenenze``) and are passed in
by the caller: the rules that use them are pure functions of the domain.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantApplication

from monitoring.domain.personale import DatiDotazione, Dotazione, DotazioneAmbito, dichiara, id_dotazione
from monitoring.domain.prestazioni import DatiPrestazione, Errore, Prestazione, leggi_csv


class Monitoring(TenantApplication):
    name = "monitoring"

    # -- prestazioni erogate ---------------------------------------------------------------
    def registra_prestazione(self, tenant_id: str, dati: DatiPrestazione, autore: str) -> Prestazione:
        """A new record (409 ``prestazione.esistente`` if the month is recorded: correct it instead)."""
        def command() -> Prestazione:
            if self.exists(Prestazione.create_id(tenant_id, *dati.chiave)):
                raise Conflict(f"La prestazione {dati.intervento} del Comune {dati.comune} per {dati.mese} è già "
                               "registrata: correggerla indicando il motivo.", rule="prestazione.esistente")
            prestazione = Prestazione.registra(tenant_id, dati, autore)
            self.save(prestazione)
            return prestazione
        return self.retrying(command, message="Registrazione concorrente della stessa prestazione.",
                             rule="concorrenza.versione", key=Prestazione.create_id(tenant_id, *dati.chiave))

    def correggi_prestazione(self, tenant_id: str, dati: DatiPrestazione, motivo: str | None,
                             autore: str) -> Prestazione:
        def command() -> Prestazione:
            prestazione = self.get_for_tenant(tenant_id, Prestazione.create_id(tenant_id, *dati.chiave), Prestazione)
            prestazione.correggi(dati, motivo, autore)
            self.save(prestazione)
            return prestazione
        return self.retrying(command, message="Correzione concorrente della stessa prestazione.",
                             rule="concorrenza.versione", key=Prestazione.create_id(tenant_id, *dati.chiave))

    def importa_prestazioni(self, tenant_id: str, testo: str, *, oggi: date,
                            appartenenze: Iterable[tuple[str, date, date]], comune_consentito: str | None,
                            motivo: str | None, autore: str) -> tuple[int, int]:
        """Import a CSV all or nothing: every row valid, then one save of every aggregate.

        A record already registered is corrected with ``motivo`` (without one, its rows are
        reported with ``prestazione.esistente``). Returns (registered, corrected).
        """
        records, errori = leggi_csv(testo, oggi=oggi, appartenenze=appartenenze,
                                    comune_consentito=comune_consentito)
        if errori:
            raise _report(errori, len(errori))

        def command() -> tuple[int, int]:
            aggregates, nuovi, corretti, esistenti = [], 0, 0, []
            for dati in records:
                aggregate_id = Prestazione.create_id(tenant_id, *dati.chiave)
                if self.exists(aggregate_id):
                    if not (motivo or "").strip():
                        esistenti.append(dati)
                        continue
                    prestazione = self.get_for_tenant(tenant_id, aggregate_id, Prestazione)
                    prestazione.correggi(dati, motivo, autore)
                    corretti += 1
                else:
                    prestazione = Prestazione.registra(tenant_id, dati, autore)
                    nuovi += 1
                aggregates.append(prestazione)
            if esistenti:
                raise _report([Errore("intervento", "prestazione.esistente",
                                      f"{d.intervento} / {d.comune} / {d.mese} è già registrata: per correggerla "
                                      "reimportare indicando il motivo.") for d in esistenti], len(esistenti))
            self.save(*aggregates)  # one transaction: every record or none
            return nuovi, corretti
        return self.retrying(command, message="Importazione concorrente con altre registrazioni.",
                             rule="concorrenza.versione", key=("import", tenant_id))

    # -- personale ---------------------------------------------------------------------------
    def dichiara_dotazione(self, tenant_id: str, dati: DatiDotazione, motivo: str | None,
                           autore: str) -> tuple[Dotazione | DotazioneAmbito, bool]:
        """Declare the staff of a profile and area (in a Comune, or of the whole Ambito) with its contract and
        employer, or update it (with a reason)."""
        aggregate_id = id_dotazione(tenant_id, dati)
        tipo = Dotazione if dati.comune is not None else DotazioneAmbito

        def command() -> tuple[Dotazione | DotazioneAmbito, bool]:
            if self.exists(aggregate_id):
                dotazione = self.get_for_tenant(tenant_id, aggregate_id, tipo)
                dotazione.aggiorna(dati, motivo, autore)
                nuova = False
            else:
                dotazione, nuova = dichiara(tenant_id, dati, autore), True
            self.save(dotazione)
            return dotazione, nuova
        return self.retrying(command, message="Aggiornamento concorrente della dotazione.",
                             rule="concorrenza.versione", key=aggregate_id)


def _report(errori: list[Errore], n: int) -> RuleViolation:
    righe = sorted({e.riga for e in errori if e.riga is not None})
    dove = f" (righe: {', '.join(map(str, righe))})" if righe else ""
    primo = errori[0]
    return RuleViolation(f"Importazione rifiutata: {n} errori{dove}; nessuna riga è stata importata.",
                         rule=primo.regola, field=primo.campo, errors=[e.as_problem() for e in errori])
