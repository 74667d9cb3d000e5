"""The pure rules of the execution read model: figure deltas, rates, amounts (no I/O).

Every expected figure is computed by hand in the comment beside it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from ambiti_kit.settings import ServiceSettings
from monitoring.integration import inbound
from monitoring.projections import OWN, SCHEMA, TABLES, esecuzione, prestazioni
from monitoring.projections.esecuzione import (ASSEGNAZIONE_INTEGRATA, ASSEGNAZIONE_REGISTRATA, IMPEGNO_ASSUNTO,
                                               IMPEGNO_RIDOTTO, LIQUIDAZIONE_DISPOSTA, MANDATO_EMESSO,
                                               STANZIAMENTO_APERTO, STANZIAMENTO_INCREMENTATO, indicatori, somma,
                                               tasso, tasso_impegno, tasso_pagamento, variazioni)

D = Decimal
ZERO = D("0.00")


def only(figura: str, importo: str) -> dict[str, Decimal]:
    return {f: (D(importo) if f == figura else ZERO) for f in esecuzione.FIGURE}


@pytest.mark.parametrize(("tipo", "figura", "segno"), [
    (ASSEGNAZIONE_REGISTRATA, "assegnato", "+"), (ASSEGNAZIONE_INTEGRATA, "assegnato", "+"),
    (STANZIAMENTO_APERTO, "stanziato", "+"), (STANZIAMENTO_INCREMENTATO, "stanziato", "+"),
    (IMPEGNO_ASSUNTO, "impegnato", "+"), (IMPEGNO_RIDOTTO, "impegnato", "-"),
    (LIQUIDAZIONE_DISPOSTA, "liquidato", "+"), (MANDATO_EMESSO, "pagato", "+"),
])
def test_each_event_moves_exactly_one_figure_by_its_amount(tipo: str, figura: str, segno: str) -> None:
    assert variazioni(tipo, D("123.45")) == only(figura, f"{segno}123.45")
    assert list(variazioni(tipo, D("1.00"))) == list(esecuzione.FIGURE)  # the upsert's column order


def test_an_unknown_event_type_is_a_bug_of_the_caller() -> None:
    with pytest.raises(KeyError):
        variazioni("finance.budget.aperto", D("1.00"))


def test_the_ledger_of_one_allocation_totals_as_finance_s_own_figures() -> None:
    ledger = [(ASSEGNAZIONE_REGISTRATA, "1000.00"), (ASSEGNAZIONE_INTEGRATA, "200.00"),
              (STANZIAMENTO_APERTO, "800.00"), (STANZIAMENTO_INCREMENTATO, "100.00"),
              (IMPEGNO_ASSUNTO, "500.00"), (IMPEGNO_ASSUNTO, "0.10"), (IMPEGNO_RIDOTTO, "50.00"),
              (IMPEGNO_RIDOTTO, "0.10"), (LIQUIDAZIONE_DISPOSTA, "300.00"), (MANDATO_EMESSO, "250.00")]
    totale = {f: ZERO for f in esecuzione.FIGURE}
    for tipo, importo in ledger:
        for figura, delta in variazioni(tipo, D(importo)).items():
            totale[figura] += delta
    # assegnato 1000 + 200; stanziato 800 + 100; impegnato 500 + 0.10 - 50 - 0.10 (exact: Decimal, not float)
    assert totale == {"assegnato": D("1200.00"), "stanziato": D("900.00"), "impegnato": D("450.00"),
                      "liquidato": D("300.00"), "pagato": D("250.00")}
    assert esecuzione.regionali(totale) == {"assegnato": D("1200.00"), "impegnato": D("450.00"),
                                            "liquidato": D("300.00"), "pagato": D("250.00")}


def test_rates_are_ratios_with_four_decimals_rounded_half_up() -> None:
    assert tasso_impegno(D("450.00"), D("1200.00")) == D("0.3750")   # 450 / 1200 = 0.375
    assert tasso_pagamento(D("250.00"), D("450.00")) == D("0.5556")  # 250 / 450 = 0.5555…
    assert tasso(D("1.00"), D("3.00")) == D("0.3333")                # 0.3333…
    assert tasso(D("450.00"), D("1600.00")) == D("0.2813")           # 0.28125: half up, not half even (0.2812)
    assert tasso(D("0.01"), D("200.00")) == D("0.0001")              # 0.00005 -> 0.0001
    assert tasso(D("100.00"), D("100.00")) == D("1.0000")
    assert tasso(ZERO, D("100.00")) == D("0.0000")


def test_a_rate_with_a_zero_denominator_is_none_and_one_above_1_is_not_clamped() -> None:
    assert tasso_impegno(D("10.00"), ZERO) is None       # nothing assigned (yet)
    assert tasso_pagamento(ZERO, ZERO) is None           # nothing committed
    assert tasso_impegno(D("150.00"), D("100.00")) == D("1.5000")  # a commitment counted before its assignment


def test_indicators_are_the_api_s_strings() -> None:
    assert indicatori({"assegnato": D("1200"), "impegnato": D("450.00"), "pagato": D("250.5")}) == {
        "assegnato": "1200.00", "impegnato": "450.00", "pagato": "250.50",
        "tasso_impegno": "0.3750", "tasso_pagamento": "0.5567"}  # 250.5 / 450 = 0.55666…
    assert indicatori({"assegnato": ZERO, "impegnato": ZERO, "pagato": ZERO}) == {
        "assegnato": "0.00", "impegnato": "0.00", "pagato": "0.00", "tasso_impegno": None, "tasso_pagamento": None}


def test_totals_over_rows_are_exact_and_zero_for_none() -> None:
    rows = [{"assegnato": D("0.10"), "pagato": D("0.00")}, {"assegnato": D("0.20"), "pagato": D("0.05")}]
    assert somma(rows, ("assegnato", "pagato")) == {"assegnato": D("0.30"), "pagato": D("0.05")}
    assert somma([], ("assegnato",)) == {"assegnato": ZERO}


MOVIMENTO = {"stanziamento_id": str(uuid.uuid4()), "ambito": "15-S09", "importo": "1250.00"}


def test_amounts_are_decimal_strings_never_floats() -> None:
    assert esecuzione.Movimento.model_validate(MOVIMENTO).importo == D("1250.00")
    for bad in (1250.0, 1250, "12.505", "-1.00", "NaN", "Infinity", "1e30", "mille"):
        with pytest.raises(ValidationError):
            esecuzione.Movimento.model_validate({**MOVIMENTO, "importo": bad})


def test_the_events_carry_the_fields_this_read_model_needs() -> None:
    with pytest.raises(ValidationError):  # an opening without its fund
        esecuzione.StanziamentoAperto.model_validate({**MOVIMENTO, "assegnazione_id": str(uuid.uuid4()),
                                                      "annualita": 2025, "piano_id": str(uuid.uuid4()),
                                                      "intervento": "I1", "anno": 2025})
    registrata = esecuzione.AssegnazioneRegistrata.model_validate(
        {"assegnazione_id": str(uuid.uuid4()), "ambito": "15-S09", "fondo": "FNPS", "annualita": 2025,
         "importo": "1000.00", "atto": {"tipo": "decreto"}, "vincoli": {}, "registrata_da": "x"})
    assert (registrata.fondo, registrata.annualita, registrata.importo) == ("FNPS", 2025, D("1000.00"))


def test_tables_are_declared_with_row_level_security_and_idempotent_ddl() -> None:
    assert {"assegnazioni", "stanziamenti", "esecuzione"} <= set(SCHEMA.tenant_tables)
    assert "regionale_esecuzione" in SCHEMA.regional_tables
    assert set(esecuzione.TENANT_TABLES + esecuzione.REGIONAL_TABLES) <= set(TABLES)
    for statement in esecuzione.DDL:  # re-runnable: IF NOT EXISTS, or a backfill of the rows it has not filled
        assert statement.startswith(("CREATE TABLE IF NOT EXISTS {schema}.", "ALTER TABLE {schema}.")) \
            or "WHERE r.liquidato IS NULL" in statement or "WHERE liquidato IS NULL" in statement, statement
    [regional] = [s for s in esecuzione.DDL if s.startswith("CREATE TABLE IF NOT EXISTS {schema}.regionale_esecuzione")]
    # aggregates only: no commitment, beneficiary, act or allocation in the Region's table
    assert not any(word in regional for word in ("impegno_id", "beneficiario", "stanziamento_id", "atto", "cig"))


#: the consumer only asks its tracker for a replayer of its dead letters when built (kit, issue 11)
_TRACKER = SimpleNamespace(replayer=lambda *args, **kwargs: None)


def test_the_consumer_reads_both_topics_and_tracks_each_producer_under_its_own_name() -> None:
    settings = ServiceSettings(service="monitoring", AMBITI_NAMESPACE="t_")
    runtime = SimpleNamespace(settings=settings, tracker=_TRACKER)
    [consumer] = inbound.consumers(runtime)  # type: ignore[arg-type]
    assert consumer.topics == {"t_planning.events.v1": "planning", "t_finance.events.v1": "finance"}
    assert set(esecuzione.EFFETTI) <= set(consumer.handlers)
    assert "planning.piano_di_zona.creato" in consumer.handlers


def test_own_events_go_to_the_in_process_projector_and_never_through_the_consumer() -> None:
    # The projector records its tracking as application "monitoring" (the notification id): no
    # topic of the consumer may be tracked under that name, nor may it handle monitoring's own types.
    settings = ServiceSettings(service="monitoring", AMBITI_NAMESPACE="t_")
    [consumer] = inbound.consumers(SimpleNamespace(settings=settings, tracker=_TRACKER))  # type: ignore[arg-type]
    assert "monitoring" not in consumer.topics.values()
    assert not any(tipo.startswith("monitoring.") for tipo in consumer.handlers)
    assert set(OWN.projections("s")) == set(prestazioni.TIPI) == {
        "monitoring.prestazione.registrata", "monitoring.prestazione.corretta", "monitoring.dotazione.dichiarata",
        "monitoring.dotazione.aggiornata", "monitoring.dotazione_ambito.dichiarata"}
    assert OWN.mapper is None  # the relay's mapper: the same integration events integrators get
