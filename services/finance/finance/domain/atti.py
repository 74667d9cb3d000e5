"""Which act finance requires where, and the check that a cited Comitato deliberation exists and was approved.

The Comitato (Coordinamento) Istituzionale decides, for the Ambito, the Piano, the budget and the criteria to
split costs among the Comuni (L. 328/2000 art. 19 c. 1 — the Piano di Zona adopted by the Comuni of the Ambito
through their accordo di programma; the regional laws and the convenzione give the Comitato these decisions;
see DOMAIN.md). Finance learns the Ambito's deliberations from planning (``planning.deliberazione.proposta``,
``.approvata``, ``.respinta``: ``projections.deliberazioni``) and, where an act of the Ambito's Comitato is
the legal title, refuses a citation of a deliberation that is unknown, not approved, or of a type that cannot
decide that matter (422 on the field that cites it).

Per place (``ATTI_RICHIESTI``):

- **Contributions of the Comuni split by deliberation** (``/contributi``, ``metodo: deliberato``): the split is
  the Comitato's (criteria to split costs, or the Ambito's budget): ``deliberazione_id`` must be an approved
  deliberation of type ``criteri_riparto_costi``, ``approvazione_bilancio`` or ``convenzione`` (the convenzione
  for the gestione associata fixes the Comuni's shares, TUEL art. 30 c. 2), and ``deliberazione_numero`` its
  number.
- **A riparto among the Comuni** (``/riparti``, ``atto.tipo: deliberazione``): the Comitato's criteria;
  the same types. Other acts a riparto may cite — a Region's ``delibera_giunta_regionale``, a ministry's
  ``decreto``, a dirigente's ``determina`` or ``decreto_dirigenziale`` — are not Comitato deliberations and
  finance cannot verify them: it records them as given.
- **Commitments** (``impegno.atto``): the title of a commitment is the dirigente's *determinazione*
  (D.Lgs. 267/2000 art. 183 c. 9 and art. 107); a ``deliberazione`` there is the capofila's organ's and is not
  checked against the Comitato's register.
- **Assignments** (``assegnazione.atto``): the State's or the Region's act (decreto, DGR, decreto
  dirigenziale); not the Comitato's.
"""

from __future__ import annotations

from datetime import date
from typing import Mapping

from ambiti_kit.errors import RuleViolation

#: the deliberation types of the Comitato that can split costs or funds among the Comuni
TIPI_RIPARTO_TRA_COMUNI = ("criteri_riparto_costi", "approvazione_bilancio", "convenzione")

ATTI_RICHIESTI: dict[str, dict[str, object]] = {
    "contributi.deliberazione_id": {"atto": "deliberazione del Comitato approvata", "tipi": TIPI_RIPARTO_TRA_COMUNI},
    "riparto.atto (tipo deliberazione)": {"atto": "deliberazione del Comitato approvata",
                                          "tipi": TIPI_RIPARTO_TRA_COMUNI},
    "impegno.atto": {"atto": "determinazione del dirigente o deliberazione (non verificata)", "tipi": ()},
    "assegnazione.atto": {"atto": "atto dello Stato o della Regione (non verificato)", "tipi": ()},
}


def verifica_deliberazione_approvata(deliberazione: Mapping | None, tipi: tuple[str, ...], field: str,
                                     numero: str | None = None, data: date | None = None) -> Mapping:
    """The cited deliberation is the Ambito's, approved, of one of ``tipi`` and (if given) numbered ``numero``.

    ``deliberazione`` is finance's row of it (None: planning never published it for this Ambito)."""
    if deliberazione is None:
        raise RuleViolation("La deliberazione citata non è tra quelle del Comitato dell'Ambito note a finance "
                            "(pubblicate da planning).", rule="atto.deliberazione_sconosciuta", field=field)
    if deliberazione["stato"] != "approvata":
        stato = "respinta" if deliberazione["stato"] == "respinta" else "ancora una proposta"
        raise RuleViolation(f"La deliberazione citata non è approvata: è {stato}.",
                            rule="atto.deliberazione_non_approvata", field=field)
    if deliberazione["tipo"] is not None and deliberazione["tipo"] not in tipi:
        raise RuleViolation(f"La deliberazione {deliberazione['numero']} è di tipo {deliberazione['tipo']}: qui serve "
                            f"una deliberazione di tipo {', '.join(tipi)}.", rule="atto.tipo_deliberazione",
                            field=field)
    if numero is not None and deliberazione["numero"] != numero:
        raise RuleViolation(f"La deliberazione citata ha il numero {deliberazione['numero']}, non {numero}.",
                            rule="atto.numero_deliberazione", field=field)
    if data is not None and deliberazione["data"] != data:
        raise RuleViolation(f"La deliberazione {deliberazione['numero']} è del {deliberazione['data'].isoformat()}, "
                            f"non del {data.isoformat()}.", rule="atto.data_deliberazione", field=field)
    return deliberazione
