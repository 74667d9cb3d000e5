"""Settings of the console process (pydantic-settings).

The console holds no data of its own: it calls the four services with the user's token. It
needs their base URLs and a secret to sign its session cookie. It never verifies tokens (the
services do), so in production it does not hold the platform's JWT secret; in development and
test it reads the platform's settings to mint development tokens at its login page.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ambiti_kit.settings import PlatformSettings

DEVELOPMENT_SESSION_SECRET = "console-sviluppo-non-usare-in-produzione-0123456789"


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = Field(
        "production", validation_alias="AMBITI_ENVIRONMENT")
    log_level: str = Field("INFO", validation_alias="AMBITI_LOG_LEVEL")
    planning_url: str = Field("http://127.0.0.1:8101", validation_alias="AMBITI_PLANNING_URL")
    finance_url: str = Field("http://127.0.0.1:8102", validation_alias="AMBITI_FINANCE_URL")
    partnership_url: str = Field("http://127.0.0.1:8103", validation_alias="AMBITI_PARTNERSHIP_URL")
    monitoring_url: str = Field("http://127.0.0.1:8104", validation_alias="AMBITI_MONITORING_URL")
    session_secret: SecretStr = Field(SecretStr(DEVELOPMENT_SESSION_SECRET),
                                      validation_alias="AMBITI_CONSOLE_SECRET")
    #: the session lasts a working day; the token inside it as long
    session_seconds: int = Field(8 * 3600, validation_alias="AMBITI_CONSOLE_SESSION_SECONDS", ge=60)
    #: the largest form the console accepts (a CSV of a month's services included); larger ones get 413
    max_body_bytes: int = Field(5 * 1024 * 1024, validation_alias="AMBITI_MAX_BODY_BYTES", ge=1024)
    #: seconds the console waits for a service before telling the user it is unavailable
    api_timeout: float = Field(15.0, validation_alias="AMBITI_CONSOLE_API_TIMEOUT", gt=0)

    @model_validator(mode="after")
    def _refuse_development_session_secret(self) -> "ConsoleSettings":
        secret = self.session_secret.get_secret_value()
        if self.environment == "production" and (
            secret == DEVELOPMENT_SESSION_SECRET or len(secret) < 32 or len(set(secret)) < 8
        ):
            raise ValueError("AMBITI_CONSOLE_SECRET must be a real secret in production (32+ characters)")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over https in production; development and tests run on plain http."""
        return self.environment == "production"

    #: production login: the OpenID Connect issuer the services trust, and this console's client there
    oidc_issuer: str | None = Field(None, validation_alias="AMBITI_OIDC_ISSUER")
    oidc_client_id: str = Field("ambiti-console", validation_alias="AMBITI_CONSOLE_OIDC_CLIENT_ID")
    oidc_client_secret: SecretStr | None = Field(None, validation_alias="AMBITI_CONSOLE_OIDC_CLIENT_SECRET")
    oidc_scope: str = Field("openid profile", validation_alias="AMBITI_CONSOLE_OIDC_SCOPE")
    oidc_claim_roles: str = Field("roles", validation_alias="AMBITI_OIDC_CLAIM_ROLES")
    oidc_claim_tenant: str = Field("tenant", validation_alias="AMBITI_OIDC_CLAIM_TENANT")
    oidc_claim_regione: str = Field("regione", validation_alias="AMBITI_OIDC_CLAIM_REGIONE")
    oidc_claim_comune: str = Field("comune", validation_alias="AMBITI_OIDC_CLAIM_COMUNE")
    #: the console's public address (the redirect URI registered at the issuer is <public_url>/accesso/ritorno);
    #: default: the address the request came to
    public_url: str | None = Field(None, validation_alias="AMBITI_CONSOLE_URL")

    def development_issuer(self) -> PlatformSettings:
        """The platform's settings whose secret signs development tokens (never used in production)."""
        return PlatformSettings(AMBITI_ENVIRONMENT=self.environment)

    def service_urls(self) -> dict[str, str]:
        return {"planning": self.planning_url, "finance": self.finance_url,
                "partnership": self.partnership_url, "monitoring": self.monitoring_url}
