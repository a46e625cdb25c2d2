"""Uniphore contact ingestion: `POST /contacts/email` and `POST /contacts/nsmeta/insertion`.

A request meets, in order: the shape of its `Authorization` header (401 before the body is
read), the size cap (413 on the declared length, else as soon as the streamed bytes pass it),
JSON and the field table (400, every problem listed), then one unit of work: the key (401), the
tenant/org/cat (403, 400) and metadata rules, the store. 202 is answered only after the commit
(STYLE.md habit 3); then the in-process worker is woken to process the contact. When the body
is refused before the key was checked, the key is checked before answering, so a caller without
a valid key learns nothing about its payload (401 always wins).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emaildesk.api.codecs.body import MediaKind, read_body
from emaildesk.api.runtime import runtime_of
from emaildesk.api.uniphore.auth import bearer_key, check_key
from emaildesk.api.uniphore.errors import ContactPayloadError
from emaildesk.api.uniphore.models import (
    EmailContactRequest,
    MetadataInsertionRequest,
    parse,
    request_body_schema,
)
from emaildesk.api.uniphore.representation import Accepted, ErrorEnvelope
from emaildesk.domain.analytics import MAX_BODY_BYTES
from emaildesk.domain.errors import DomainError
from emaildesk.services.analytics_ingest import (
    authenticate,
    ingest_email_contact,
    insert_metadata,
)

router = APIRouter(tags=["Uniphore contacts"])
Model = TypeVar("Model", EmailContactRequest, MetadataInsertionRequest)

# The field table allows a 1 MB body; JSON escaping (quotes, newlines) can double it and the
# rest of the contact adds its addresses and up to 50 metadata entries. A body under this cap
# but over 1 MB is a 400 naming `data.body`; a request over it is 413, unread.
MAX_REQUEST_BYTES: Final = 2 * MAX_BODY_BYTES
JSON_ONLY: Final = frozenset({MediaKind.JSON})
ACCEPTED_BODY: Final = {"status": 202, "message": "accepted"}
UPDATED_BODY: Final = {"status": 200, "message": "updated"}
ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": ErrorEnvelope} for status in (400, 401, 403, 404, 413, 415, 500)
}


async def _read(request: Request, key: str, model: type[Model]) -> Model:
    try:
        parsed = await read_body(request, allowed=JSON_ONLY, max_bytes=MAX_REQUEST_BYTES)
        return parse(model, parsed.data)
    except (DomainError, ContactPayloadError):
        await check_key(request, key)  # 401 wins over what is wrong with the body
        raise


async def _wake_worker(request: Request) -> None:
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        await worker.wake()


@router.post(
    "/contacts/email",
    summary="Ingest one email of a conversation (Uniphore Email API)",
    description="Stores the email durably, answers 202, and processes it asynchronously "
    "(grouping by convId, metrics). A repeated msgId in the same conversation is accepted "
    "again and stored once.",
    status_code=202,
    response_model=Accepted,
    responses=ERRORS,
    openapi_extra=request_body_schema(EmailContactRequest),
)
async def post_email(request: Request) -> JSONResponse:
    key = bearer_key(request)
    body = await _read(request, key, EmailContactRequest)
    async with runtime_of(request).database.uow() as uow:
        tenant = await authenticate(uow, key)
        outcome = await ingest_email_contact(uow, tenant, body.contact())
        await uow.commit()
    if not outcome.duplicate:
        await _wake_worker(request)
    return JSONResponse(ACCEPTED_BODY, status_code=202)


@router.post(
    "/contacts/nsmeta/insertion",
    summary="Add or update non-speech metadata of an ingested conversation",
    description="`data.contactId` is the convId; tenant/org/cat must be the conversation's. "
    "Keys are added or updated, never deleted; at most 50 keys per category. Answers 200 "
    '`{"status":200,"message":"updated"}` once saved (Uniphore documents no body).',
    response_model=Accepted,
    responses=ERRORS,
    openapi_extra=request_body_schema(MetadataInsertionRequest),
)
async def post_metadata_insertion(request: Request) -> JSONResponse:
    key = bearer_key(request)
    body = await _read(request, key, MetadataInsertionRequest)
    async with runtime_of(request).database.uow() as uow:
        tenant = await authenticate(uow, key)
        await insert_metadata(uow, tenant, body.insertion())
        await uow.commit()
    return JSONResponse(UPDATED_BODY, status_code=200)
