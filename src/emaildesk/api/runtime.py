"""The running site's parts, built once by the composition root and reached from requests.

Edges read it from `request.app.state.runtime`; nothing is a module-level global, so two apps
(two test nodes) can run in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from emaildesk.api.i18n import Translator
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.passwords import PasswordHasher
from emaildesk.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    database: Database
    blobs: FileBlobStore
    hasher: PasswordHasher
    translator: Translator
    mail: MailConfig


def runtime_of(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime
