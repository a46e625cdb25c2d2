"""ASGI middleware: every eGain v12 response carries the `X-egain-session` header.

api-notes §1.2 [C]: every v12 response echoes `X-egain-session`, "the current session ID",
successes and errors alike. Doing it here, around the whole app, reaches the responses no
route builds: the error envelopes of `egain/errors.py` (400, 401, 404, 406, 415, …) and the
404/405 of an unknown path.

Which value: a response that sets the header itself (login: the new session) keeps its own;
otherwise the value the request carried is echoed unchanged, whether or not it named a live
session (the client learns nothing it did not send). A request without the header gets none
back: there is no current session to name. Unhandled exceptions are answered by Starlette's
outermost ServerErrorMiddleware, outside this one, so a 500 carries no echo.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emaildesk.api.egain.v12.paths import is_v12_path
from emaildesk.services.sessions import SESSION_HEADER

_HEADER: Final = SESSION_HEADER.lower().encode("latin-1")


class SessionEchoMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_v12_path(_path(scope)):
            await self.app(scope, receive, send)
            return
        sent = _request_session(scope)

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start" and sent is not None:
                headers = list(message.get("headers", []))
                if not any(name.lower() == _HEADER for name, _ in headers):
                    headers.append((_HEADER, sent))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_session)


def _path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :]
    return path


def _request_session(scope: Scope) -> bytes | None:
    """The first `X-egain-session` request header (names are case-insensitive, RFC 9110 §5.1)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == _HEADER:
            return bytes(value)
    return None
