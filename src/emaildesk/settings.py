"""One typed settings object, built at start-up and passed explicitly (STYLE.md habit 10).

Sources, highest first: environment variables `EMAILDESK_*`, then an optional TOML file named
by `EMAILDESK_CONFIG` (or `--config`), then defaults. Secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMAILDESK_", extra="forbid")

    data_dir: Path = Field(default=Path("var"), description="Database, blobs and outbound maildir.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite in data_dir."
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str = Field(default="", description="Base URL for links; default from host/port.")
    default_locale: str = "en-US"
    log_level: str = "INFO"
    log_json: bool = True
    token_ttl_seconds: int = 3600
    max_request_bytes: int = Field(
        default=64 * 1024 * 1024,
        description="Largest HTTP request body read (base64 attachments inflate 4/3); the "
        "partition's email size limits are checked after reading.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""), description="Signs outbound Message-ID tokens; generated if empty."
    )
    worker_enabled: bool = True
    worker_poll_seconds: float = 0.5
    worker_lease_seconds: float = 300.0
    config_file: Path | None = Field(default=None, alias="EMAILDESK_CONFIG")

    # --- mail (issue #4) -------------------------------------------------------------------
    mail_domain: str = Field(
        default="emaildesk.localhost", description="Right-hand side of our Message-IDs."
    )
    subject_token: str = Field(
        default="[#{case_id}]", description="Case token added to outbound subjects."
    )
    sender_rate_per_hour: int = Field(
        default=120, description="Messages one sender may send per hour before mail storms."
    )
    smtp_enabled: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    lmtp_enabled: bool = False
    lmtp_host: str = "127.0.0.1"
    lmtp_port: int = 2424
    smtp_tls_cert_file: Path | None = Field(default=None, description="Enables STARTTLS.")
    smtp_tls_key_file: Path | None = None
    relay_host: str | None = Field(
        default=None, description="Outbound SMTP relay; none: deliver to a local maildir."
    )
    relay_port: int = 25
    relay_security: str = Field(default="starttls", pattern="^(none|starttls|tls)$")
    relay_username: str | None = None
    relay_password: SecretStr = SecretStr("")
    relay_timeout_seconds: float = 60.0
    dkim_key_file: Path | None = Field(default=None, description="Enables DKIM signing.")
    dkim_selector: str = "emaildesk"
    dkim_domain: str | None = None

    @property
    def outbound_maildir(self) -> Path:
        return self.data_dir / "outbound-maildir"

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "secret.key"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'emaildesk.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.http_host}:{self.http_port}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings: TOML file values (if any) under environment variables and overrides."""
    import os

    path = config_file or (
        Path(os.environ["EMAILDESK_CONFIG"]) if "EMAILDESK_CONFIG" in os.environ else None
    )
    file_values: dict[str, Any] = {}
    if path is not None:
        with path.open("rb") as handle:
            file_values = tomllib.load(handle).get("emaildesk", {})
    env_names = {k[len("EMAILDESK_") :].lower() for k in os.environ if k.startswith("EMAILDESK_")}
    merged = {k: v for k, v in file_values.items() if k not in env_names}
    merged.update(overrides)
    return Settings(**merged)
