"""Whether a provider may receive a new commitment on a line: its accreditations and awards.

Partnership accredits providers for services (with a validity period) and awards
interventi to them; finance keeps what it needs of those events (``projections/abilitazioni``)
and checks them here when a commitment names the provider. A provider with no
accreditation or award at all in the Ambito is outside that regime (e.g. a direct contract
with its CIG) and is not checked; one that has them may receive a commitment only under one
valid on the day for that intervento: an expired or revoked accreditation blocks new
commitments (commitments already taken stay, as the law on expired accreditations has it).
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, Mapping

from ambiti_kit.errors import RuleViolation


def verifica_abilitazione(abilitazioni: Iterable[Mapping], intervento: str, il: date) -> None:
    """Refuse a commitment to a provider under the accreditation regime without a valid title for ``intervento``."""
    titoli = list(abilitazioni)
    if not titoli:
        return
    pertinenti = [t for t in titoli if t["intervento"] in (None, intervento)]
    if not pertinenti:
        raise RuleViolation(f"Il fornitore è accreditato o affidatario solo per altri interventi, non per {intervento}.",
                            rule="impegno.fornitore_non_abilitato", field="beneficiario.codice_fiscale")
    validi = [t for t in pertinenti if t["revocato_il"] is None and t["valido_dal"] <= il <= t["valido_al"]]
    if validi:
        return
    if all(t["revocato_il"] is not None for t in pertinenti):
        raise RuleViolation("L'accreditamento del fornitore per questo intervento è revocato.",
                            rule="impegno.accreditamento_revocato", field="beneficiario.codice_fiscale")
    scaduto = max(t["valido_al"] for t in pertinenti)
    raise RuleViolation(f"L'accreditamento o l'affidamento del fornitore per {intervento} non è valido il "
                        f"{il.isoformat()} (ultimo valido fino al {scaduto.isoformat()}).",
                        rule="impegno.accreditamento_scaduto", field="beneficiario.codice_fiscale")
