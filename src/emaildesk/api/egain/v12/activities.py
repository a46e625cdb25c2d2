"""eGain v12 activities: create an incoming email, read activities by id.

- `POST …/interaction/activity` (seed 001): the body (JSON, XML or multipart, see
  `requests.py`) becomes an `IncomingEmail` for the one ingest use case SMTP and IMAP use too;
  the unit of work is committed before the 201, so `Location` names a durably stored activity.
- `GET …/interaction/activity/{IDs}` (api-notes §1.6): at most 75 ids; `$attribute`,
  `embedInlineAttachment=yes` (a single email only), and `payloadVersion`,
  `transcriptDatetimeFormat`, `timeOffset` (accepted; they shape chat transcripts, and email
  has none, so they change nothing here); any other parameter is 400-101. Visibility is
  `get_activities`'s: users see their departments' activities, and an id they may not see is
  reported like a missing one (404-101).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request, Response

from emaildesk.api.codecs.body import MediaKind
from emaildesk.api.egain import inline_images
from emaildesk.api.egain.common import body_of, document_response, negotiated
from emaildesk.api.egain.query import check_query, parse_ids, yes_flag
from emaildesk.api.egain.representation_v12 import (
    ATTRIBUTES,
    activities_v12_document,
    parse_attribute_parameter,
    render_v12_xml,
)
from emaildesk.api.egain.v12 import openapi
from emaildesk.api.egain.v12.paths import ACTIVITY_PATH, TAG, activity_location
from emaildesk.api.egain.v12.requests import incoming_email_from
from emaildesk.api.egain.v12.session import LicensedActor
from emaildesk.api.runtime import runtime_of
from emaildesk.domain import errors
from emaildesk.domain.activities import Activity
from emaildesk.domain.users import Action, Resource
from emaildesk.services.activity_queries import get_activities
from emaildesk.services.incoming_email import create_incoming_email
from emaildesk.services.ports import BlobStore

CREATE_MEDIA: Final = frozenset({MediaKind.JSON, MediaKind.XML, MediaKind.MULTIPART})
MAX_IDS: Final = 75  # api-notes §1.6: "max 75 IDs"
ATTRIBUTE: Final = "$attribute"
EMBED_INLINE: Final = "embedInlineAttachment"
# api-notes §1.6: the query parameters of GET by ids for users.
READ_PARAMETERS: Final = frozenset(
    {ATTRIBUTE, EMBED_INLINE, "payloadVersion", "transcriptDatetimeFormat", "timeOffset"}
)

log = logging.getLogger(__name__)
router = APIRouter(tags=[TAG])


@router.post(
    ACTIVITY_PATH,
    status_code=201,
    response_class=Response,
    summary="Create an incoming email activity (eGain v12)",
    description=(
        "Seed 001 (specs/egain-v12-incoming-email.txt), api-notes §1.5. Requires "
        "`X-egain-session` (401-101) and a licensed user with Create:Activity (403). Body: "
        "JSON, XML (namespaced as in Example 1, or not) or multipart/form-data (`data`, "
        "`data-type`, attachment parts; a part's `Content-ID` header makes it inline; an "
        "`attachments` element in `data` is 400-2032). Required: `department.name`, "
        "`type.value` (`email`), `type.subtype.value` (`general`), `payload.email.date`, "
        "`payload.email.emailAddresses.from` and `.receiver` (an active alias of the "
        "department), and one of subject, content, attachments. Answers 201 with `Location: "
        "/system/ws/v12/interaction/activity/{id}` once stored. Also served at "
        "`/ws/v12/interaction/activity`."
    ),
    responses={
        **openapi.CREATED_RESPONSE,
        **openapi.error_responses(400, 401, 403, 406, 413, 415),
    },
    openapi_extra=openapi.ACTIVITY_REQUEST_BODY,
)
async def create_activity(request: Request, actor: LicensedActor) -> Response:
    negotiated(request)
    check_query(request, ())
    actor.require_permission(Action.CREATE, Resource.ACTIVITY)
    runtime = runtime_of(request)
    command = incoming_email_from(await body_of(request, CREATE_MEDIA, runtime))
    async with runtime.database.uow() as uow:
        activity = await create_incoming_email(uow, runtime.blobs, command, actor)
        await uow.commit()
    assert activity.id is not None
    log.info(
        "v12 activity created",
        extra={"fields": {"activity_id": activity.id, "user_id": actor.id}},
    )
    return Response(status_code=201, headers={"Location": activity_location(activity.id)})


@router.get(
    f"{ACTIVITY_PATH}/{{ids}}",
    response_class=Response,
    summary="Get activities by ids (eGain v12)",
    description=(
        "api-notes §1.6. Up to 75 comma-separated ids (more: 400-10424), answered in the order "
        "asked, as JSON or XML (`Accept`). `$attribute=all` or a list of top-level names; "
        "`embedInlineAttachment=yes` embeds inline images in the HTML as `data:` URLs (a "
        "single email activity only, else 400-101); `payloadVersion`, "
        "`transcriptDatetimeFormat` and `timeOffset` are accepted (chat only: no effect on "
        "email). A user sees the activities of their departments; other or unknown ids are "
        "404-101, named. Attachment links point at "
        "`/system/ws/v12/interaction/activity/{id}/attachment/{attachmentId}`. Also served at "
        "`/ws/v12/interaction/activity/{ids}`."
    ),
    responses={
        **openapi.ACTIVITIES_RESPONSE,
        **openapi.error_responses(400, 401, 403, 404, 406),
    },
)
async def read_activities(
    request: Request,
    ids: Annotated[str, Path(description="Comma-separated activity ids (≤ 75).")],
    actor: LicensedActor,
) -> Response:
    chosen = negotiated(request)
    check_query(request, READ_PARAMETERS)
    wanted = parse_ids(ids, max_ids=MAX_IDS, max_chars=None)
    attributes = parse_attribute_parameter(request.query_params.get(ATTRIBUTE), ATTRIBUTES)
    embed = yes_flag(request, EMBED_INLINE)
    if embed and len(wanted) != 1:
        raise errors.UNSUPPORTED_QUERY_PARAMETER(parameters=EMBED_INLINE)
    runtime = runtime_of(request)
    async with runtime.database.uow() as uow:
        view = await get_activities(uow, actor, wanted)
    blobs_data = None
    if embed:
        activity = view.activities[0]
        if activity.email is None:
            raise errors.UNSUPPORTED_QUERY_PARAMETER(parameters=EMBED_INLINE)
        blobs_data = await _inline_bytes(runtime.blobs, activity)
    document = activities_v12_document(
        view,
        attributes=attributes,
        embed_inline=embed,
        blobs_data=blobs_data,
        translate=_translator(request, chosen.locale),
    )
    return document_response(request, document, render_v12_xml)


async def _inline_bytes(blobs: BlobStore, activity: Activity) -> dict[str, bytes]:
    """The bytes of the attachments the HTML refers to by `cid:`, by sha256 (only those: an
    email's other attachments may be large and are not embedded)."""
    html = activity.email.html if activity.email else None
    if not html:
        return {}
    referenced = inline_images.referenced_attachments(html, activity.attachments)
    return {a.sha256: await blobs.get(a.sha256) for a in referenced}


def _translator(request: Request, locale: str) -> Callable[[str], str]:
    translator = runtime_of(request).translator

    def translate(msgid: str) -> str:
        return translator.gettext(msgid, locale)

    return translate
