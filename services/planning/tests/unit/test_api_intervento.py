"""The request model of an intervento: its optional classification (no I/O)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from planning.api.piani import ContenutoWrite, Intervento

BASE = {"codice": "M-1", "titolo": "Centro per le famiglie", "nomenclatura": {"sistema": "fnps_macrolivello",
        "codice": "3"}, "comuni": ["065134"], "utenti_attesi": 10}


def test_the_classification_is_optional_and_absent_fields_are_not_stored() -> None:
    body = ContenutoWrite(aree=[{"codice": "A", "titolo": "Area", "obiettivi": [{"codice": "O", "titolo": "Obiettivo",
                                 "interventi": [BASE]}]}])
    stored = body.model_dump(mode="json", exclude_none=True)["aree"][0]["obiettivi"][0]["interventi"][0]
    assert not {"area_utenza", "disabilita_gravissima", "servizio_qsfp", "investimento"} & stored.keys()
    iv = Intervento(**BASE, area_utenza="disabilita", disabilita_gravissima=True, servizio_qsfp="h", investimento=False)
    assert (iv.area_utenza, iv.disabilita_gravissima, iv.servizio_qsfp, iv.investimento) == (
        "disabilita", True, "h", False)


@pytest.mark.parametrize("campo, valore", [("area_utenza", "bambini"), ("servizio_qsfp", "z"),
                                           ("disabilita_gravissima", "true"), ("investimento", 1)])
def test_a_wrong_value_is_refused_on_its_field(campo: str, valore: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Intervento(**BASE, **{campo: valore})
    assert [e["loc"] for e in caught.value.errors()] == [(campo,)]


def test_the_openapi_schema_lists_the_areas_and_the_services() -> None:
    schema = Intervento.model_json_schema()
    area = next(x for x in schema["properties"]["area_utenza"]["anyOf"] if x.get("enum"))
    assert area["enum"][0] == "minori_famiglie" and len(area["enum"]) == 8
    servizio = next(x for x in schema["properties"]["servizio_qsfp"]["anyOf"] if x.get("enum"))
    assert servizio["enum"] == list("abcdefgh")
