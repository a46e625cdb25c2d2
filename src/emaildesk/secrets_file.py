"""The site's signing secret: from settings when given, else generated once and kept in the data
directory (mode 0600), so tokens in Message-IDs sent last month still verify after a restart."""

from __future__ import annotations

import os
import secrets

from emaildesk.settings import Settings

SECRET_BYTES = 32


def site_secret(settings: Settings) -> bytes:
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured.encode()
    path = settings.secret_file
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex())
        handle.flush()
        os.fsync(handle.fileno())
    return value
