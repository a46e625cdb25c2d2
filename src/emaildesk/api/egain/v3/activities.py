"""`GET /core/casemgr/v3/activity/{ids}`: read activities by id (api-notes §1.6), JSON or XML.

Query parameters differ by actor [C]: users and client applications `$attribute, $order,
$sort, payloadVersion, embedInlineAttachment` (users also `transcriptDatetimeFormat,
timeOffset`); customers `$attribute, customer, transcriptDatetimeFormat, timeOffset`.
Anything else is 400-101 naming it. Our readings [I]:

- `transcriptDatetimeFormat` and `timeOffset` shape chat transcripts; emaildesk has no chat,
  so they are accepted and change nothing. `payloadVersion` likewise: there is one payload;
- `$sort` names one of `id, created, lastModified, dueDate, priority` and `$order` is `asc`
  or `desc` (400-102 otherwise); without either, activities come in the order asked;
- `embedInlineAttachment=yes` embeds inline images as `data:` URLs, for one activity only
  (as v12: "single email only"; with more ids, 400-10424);
- `customer` (customers only) narrows the answer to that customer's activities, as the links
  of a customer's representation carry it (`?customer=<the activity's customer>`): an
  activity of another customer is 404-101, like any activity the caller may not see.

Visibility (own and granted for customers, and only emails sent out; departments for users)
is `services.activity_queries.get_activities`'; one unknown or invisible id is 404-101 for all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Depends, Request, Response

from emaildesk.api.egain.common import document_response, negotiated
from emaildesk.api.egain.query import check_query, yes_flag
from emaildesk.api.egain.representation_v3 import (
    ATTRIBUTES,
    activities_v3_document,
    render_v3_xml,
)
from emaildesk.api.egain.representation_v12 import parse_attribute_parameter
from emaildesk.api.egain.v3.auth import ALL_ACTORS, Access, authorized
from emaildesk.api.egain.v3.openapi import TAGS, error_responses, parameter, parameters
from emaildesk.api.egain.v3.parameters import CUSTOMER, optional_id, path_ids, single_value
from emaildesk.api.runtime import runtime_of
from emaildesk.domain import errors
from emaildesk.domain.activities import Activity
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.services.activity_queries import ActivityView, get_activities

router = APIRouter(tags=TAGS)

PATH: Final = "/core/casemgr/v3/activity/{ids}"
ATTRIBUTE: Final = "$attribute"
ORDER: Final = "$order"
SORT: Final = "$sort"
EMBED_INLINE: Final = "embedInlineAttachment"
PAYLOAD_VERSION: Final = "payloadVersion"
TRANSCRIPT_FORMAT: Final = "transcriptDatetimeFormat"
TIME_OFFSET: Final = "timeOffset"

# api-notes §1.6 [C]: the query parameters each kind of actor may send.
QUERY_PARAMETERS: Final[dict[ActorType, tuple[str, ...]]] = {
    ActorType.CLIENT_APPLICATION: (ATTRIBUTE, ORDER, SORT, PAYLOAD_VERSION, EMBED_INLINE),
    ActorType.USER: (
        ATTRIBUTE,
        ORDER,
        SORT,
        PAYLOAD_VERSION,
        EMBED_INLINE,
        TRANSCRIPT_FORMAT,
        TIME_OFFSET,
    ),
    ActorType.CUSTOMER: (ATTRIBUTE, CUSTOMER, TRANSCRIPT_FORMAT, TIME_OFFSET),
}
ASCENDING: Final = "asc"
DESCENDING: Final = "desc"
_EPOCH: Final = datetime.min.isoformat()


def _date_key(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else _EPOCH


SORT_KEYS: Final[dict[str, Callable[[Activity], Any]]] = {
    "id": lambda a: a.id or 0,
    "created": lambda a: _date_key(a.created_at),
    "lastModified": lambda a: _date_key(a.last_modified_at),
    "dueDate": lambda a: _date_key(a.due_date),
    "priority": lambda a: a.priority,
}


def _sort_and_order(request: Request) -> tuple[str | None, str | None]:
    """`$sort` and `$order`, checked before the database is asked anything."""
    sort, order = single_value(request, SORT), single_value(request, ORDER)
    if sort is not None and sort not in SORT_KEYS:
        raise errors.UNSUPPORTED_QUERY_VALUE(parameter=SORT, values=", ".join(SORT_KEYS))
    if order is not None and order not in (ASCENDING, DESCENDING):
        raise errors.UNSUPPORTED_QUERY_VALUE(parameter=ORDER, values=f"{ASCENDING}, {DESCENDING}")
    for name in (PAYLOAD_VERSION, TRANSCRIPT_FORMAT, TIME_OFFSET):
        single_value(request, name)  # accepted, once (see the module docstring)
    return sort, order


def _sorted(view: ActivityView, sort: str | None, order: str | None) -> ActivityView:
    """The view with its activities in the `$sort` / `$order` asked for (by id when only
    `$order` is given), else as they are: in the order of the path."""
    if sort is None and order is None:
        return view
    key = SORT_KEYS[sort or "id"]
    ordered = sorted(view.activities, key=key, reverse=order == DESCENDING)
    return dataclasses.replace(view, activities=ordered)


def only_customer(view: ActivityView, customer_id: int | None) -> None:
    """`customer=<id>`: activities of another customer read as not found."""
    if customer_id is None:
        return
    others = [a.id for a in view.activities if a.customer_id != customer_id]
    if others:
        raise errors.IDS_NOT_FOUND(ids=",".join(str(i) for i in others))


async def _inline_bytes(request: Request, view: ActivityView) -> dict[str, bytes]:
    """The bytes of the inline attachments, by sha256, for `embedInlineAttachment=yes`."""
    blobs = runtime_of(request).blobs
    wanted = {a.sha256 for activity in view.activities for a in activity.attachments if a.inline}
    return {sha: await blobs.get(sha) for sha in sorted(wanted)}


@router.get(
    PATH,
    summary="Get activities by ids",
    description=(
        'eGain Case Manager v3 "Get activity by IDs" (api-notes §1.6). Users, customers and '
        "client applications; token scope `read` or `manage` (`core.casemgr.*`, "
        "`app.core.casemgr.*` for client applications; 403-197). `ids`: comma-separated, "
        "≤ 1500 characters. Query parameters by actor: users and client applications "
        "`$attribute, $order, $sort, payloadVersion, embedInlineAttachment` (users also "
        "`transcriptDatetimeFormat, timeOffset`), customers `$attribute, customer, "
        "transcriptDatetimeFormat, timeOffset`; any other is 400-101. A customer sees their own "
        "and their grantors' emails (outbound ones only once sent); a user the activities of "
        "their departments. An id that does not exist or is not visible is 404-101. JSON or "
        "XML by `Accept`."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The activities, in the order asked (or `$sort`/`$order`).",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "object", "xml": {"name": "activities"}}},
            },
        },
        **error_responses(400, 401, 403, 404, 406, 500),
    },
    openapi_extra=parameters(
        parameter(ATTRIBUTE, "`all`, or a comma-separated list of top-level attributes."),
        parameter(SORT, "Users and client applications.", enum=list(SORT_KEYS)),
        parameter(ORDER, "Users and client applications.", enum=[ASCENDING, DESCENDING]),
        parameter(PAYLOAD_VERSION, "Users and client applications; accepted, no effect."),
        parameter(
            EMBED_INLINE,
            "Users and client applications: inline images as data: URLs (one id only).",
            enum=["yes"],
        ),
        parameter(CUSTOMER, "Customers: only this customer's activities (self or a grantor)."),
        parameter(TRANSCRIPT_FORMAT, "Users and customers; chat only: accepted, no effect."),
        parameter(TIME_OFFSET, "Users and customers; chat only: accepted, no effect."),
    ),
)
async def get_activities_route(
    request: Request,
    ids: str,
    actor: Actor = Depends(authorized(*ALL_ACTORS, access=Access.READ)),
) -> Response:
    check_query(request, QUERY_PARAMETERS[actor.type])
    activity_ids = path_ids(ids)
    attributes = parse_attribute_parameter(single_value(request, ATTRIBUTE), ATTRIBUTES)
    sort, order = _sort_and_order(request)
    embed = yes_flag(request, EMBED_INLINE)
    if embed and len(activity_ids) > 1:
        raise errors.LIMIT_EXCEEDED(limit="ids", value=1)
    customer_id = optional_id(request, CUSTOMER)
    runtime = runtime_of(request)
    async with runtime.database.uow() as uow:
        view = await get_activities(uow, actor, activity_ids)
    only_customer(view, customer_id)
    view = _sorted(view, sort, order)
    locale = negotiated(request).locale
    document = activities_v3_document(
        view,
        attributes=attributes,
        embed_inline=embed,
        blobs_data=await _inline_bytes(request, view) if embed else None,
        translate=lambda text: runtime.translator.gettext(text, locale),
    )
    return document_response(request, document, render_v3_xml)
