"""The development login: who may log in as what, with Italian errors per field."""

from __future__ import annotations

import jwt
import pytest

from console.identity import AccessoNonValido, Utente, accedi
from console.settings import ConsoleSettings


@pytest.fixture
def settings() -> ConsoleSettings:
    return ConsoleSettings(AMBITI_ENVIRONMENT="test")


def test_un_coordinatore_riceve_un_token_del_suo_ambito(settings) -> None:
    utente = accedi(settings, ruolo="coordinatore", ambito="15-S09")
    piattaforma = settings.development_issuer()
    claims = jwt.decode(utente.token, piattaforma.jwt_secret.get_secret_value(), algorithms=["HS256"],
                        audience=piattaforma.jwt_audience)
    assert claims["tenant"] == "15-S09" and claims["roles"] == ["coordinatore"]
    assert utente.soggetto == "coordinatore@15-S09" and utente.valido()
    assert Utente.dalla_sessione(utente.da_sessione()) == utente
    assert accedi(settings, ruolo="coordinatore", ambito=" 15-s09 ").tenant == "15-S09"  # as a person types it


def test_un_sindaco_deve_indicare_il_suo_comune(settings) -> None:
    with pytest.raises(AccessoNonValido) as exc:
        accedi(settings, ruolo="componente_comitato", ambito="15-S09")
    assert "codice ISTAT del Comune" in exc.value.errori["comune"]
    utente = accedi(settings, ruolo="componente_comitato", ambito="15-S09", comune="065117")
    assert utente.comune == "065117"


def test_la_regione_non_ha_un_ambito(settings) -> None:
    utente = accedi(settings, ruolo="regione", ambito="15-S09", regione="15")
    assert utente.tenant is None and utente.regione == "15"
    with pytest.raises(AccessoNonValido) as exc:
        accedi(settings, ruolo="regione", regione="Campania")
    assert set(exc.value.errori) == {"regione"}


@pytest.mark.parametrize("campi, campo", [
    ({"ruolo": "amministratore", "ambito": "15-S09"}, "ruolo"),
    ({"ruolo": "coordinatore", "ambito": "15-S 09"}, "ambito"),
    ({"ruolo": "coordinatore", "ambito": "S09"}, "ambito"),
    ({"ruolo": "coordinatore", "ambito": "15-S09", "comune": "65117"}, "comune"),
    ({"ruolo": "referente_ets", "ambito": "15-S09", "soggetto": "a b"}, "soggetto"),
])
def test_campi_non_validi_hanno_un_messaggio_per_campo(settings, campi, campo) -> None:
    with pytest.raises(AccessoNonValido) as exc:
        accedi(settings, **campi)
    assert campo in exc.value.errori


def test_in_produzione_l_accesso_di_sviluppo_non_esiste() -> None:
    # no platform JWT secret at all: the console does not need it in production
    produzione = ConsoleSettings(AMBITI_ENVIRONMENT="production",
                                 AMBITI_CONSOLE_SECRET="k" * 8 + "0123456789abcdefghijklmnopqrst")
    with pytest.raises(AccessoNonValido):
        accedi(produzione, ruolo="coordinatore", ambito="15-S09")


def test_in_produzione_il_segreto_di_sviluppo_della_sessione_e_rifiutato() -> None:
    with pytest.raises(ValueError, match="AMBITI_CONSOLE_SECRET"):
        ConsoleSettings(AMBITI_ENVIRONMENT="production")
