"""Settings: defaults, TOML file, environment precedence, secrets never printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from emaildesk.settings import Settings, load_settings


def test_default_database_is_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert (
        settings.effective_database_url
        == f"sqlite+aiosqlite:///{tmp_path.resolve()}/emaildesk.sqlite3"
    )
    assert settings.blob_dir == tmp_path / "blobs"


def test_toml_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "emaildesk.toml"
    config.write_text('[emaildesk]\nhttp_port = 9000\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("EMAILDESK_HTTP_PORT", "9100")
    settings = load_settings(config)
    assert settings.http_port == 9100  # environment over file
    assert settings.log_level == "DEBUG"  # file over default


def test_config_file_named_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[emaildesk]\nhttp_host = "::1"\n')
    monkeypatch.setenv("EMAILDESK_CONFIG", str(config))
    assert load_settings().http_host == "::1"


def test_unknown_setting_fails_loudly(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[emaildesk]\nhttp_prot = 1\n")
    with pytest.raises(ValidationError, match="http_prot"):
        load_settings(config)


def test_secret_key_never_prints() -> None:
    settings = Settings(secret_key="hunter2-very-secret")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_base_url_defaults_to_host_and_port() -> None:
    assert Settings(http_port=8181).base_url == "http://127.0.0.1:8181"
    assert Settings(public_url="https://desk.example.com/").base_url == "https://desk.example.com"


def test_site_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    from emaildesk.secrets_file import site_secret

    settings = Settings(data_dir=tmp_path)
    first = site_secret(settings)
    assert len(first) == 32
    assert site_secret(settings) == first  # kept across restarts
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert site_secret(Settings(data_dir=tmp_path, secret_key="configured")) == b"configured"
