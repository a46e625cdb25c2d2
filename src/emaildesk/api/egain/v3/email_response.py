"""`POST /core/casemgr/v3/activity/{ids}/email/general`: a customer answers an activity by email
(specs/egain-v3-email-response.txt).

The route translates only: bearer token (customers, `manage` scope), the `customer` query
parameter (acting for a customer who granted it), the path ids (≤ 1500 characters) and the
body in any of the five content types into `EmailResponse`; every rule is
`services.email_response`'s. Success is 201 with `Location: /core/casemgr/v3/activity/{id}`
and no body (api-notes §1.8), sent after the commit.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Depends, Request, Response

from emaildesk.api.egain.query import check_query
from emaildesk.api.egain.v3.auth import Access, authorized
from emaildesk.api.egain.v3.bodies import read_v3_body
from emaildesk.api.egain.v3.openapi import (
    TAGS,
    created_response,
    error_responses,
    parameter,
    parameters,
    v3_request_body,
)
from emaildesk.api.egain.v3.parameters import CUSTOMER, optional_id, path_ids
from emaildesk.api.egain.v3.requests import EmailResponseBody, email_response_command
from emaildesk.api.egain.v3.responses import created
from emaildesk.api.runtime import runtime_of
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.services.email_response import create_email_response

router = APIRouter(tags=TAGS)

QUERY_PARAMETERS: Final = (CUSTOMER,)
PATH: Final = "/core/casemgr/v3/activity/{ids}/email/general"

_SAMPLES = {
    "seed-000": {
        "type": {"value": "email", "subtype": {"value": "general"}},
        "subject": "Issue with mobile phone",
        "payload": {"email": {"content": {"type": "text", "value": "The screen stays dark."}}},
    },
    "all-attributes": {
        "type": {"value": "email", "subtype": {"value": "general"}},
        "subject": "Re: Issue with mobile phone",
        "issueType": {"id": "2"},
        "payload": {
            "email": {
                "content": [
                    {"type": "text", "value": "Photo attached."},
                    {"type": "html", "value": '<p>Photo: <img src="cid:photo1"></p>'},
                ],
                "emailAddresses": {
                    "from": "maria.lopez@example.net",
                    "receiver": "support@example.com",
                    "replyTo": "maria.lopez@example.net",
                },
                "messageCenter": {"id": "1"},
            }
        },
        "attachments": {
            "attachment": [
                {"altId": "<altId from the upload>", "inline": "true", "contentId": "photo1"}
            ]
        },
        "customAttributes": {
            "customAttribute": [
                {"attribName": "order_number", "attribValues": {"attribValue": [{"value": "A-1"}]}}
            ]
        },
    },
}


@router.post(
    PATH,
    status_code=201,
    response_class=Response,
    summary="Create an email response (customer)",
    description=(
        'eGain Case Manager v3 "Create an email response": a customer answers one of their '
        "activities, for themself or, with `customer={id}`, for a customer who granted them "
        "the right (otherwise 400). Only customers (403-112); token scope "
        "`core.casemgr.manage` (403-197). `ids` is one id (≤ 1500 characters; more than one "
        "id is 400-10424); an activity the customer may not see is 404-101. Body: "
        "`type.value` email, `type.subtype.value` general, at least one of subject, "
        "attachments, content; `payload.email.emailAddresses.from` must not be given with "
        "`customer`; receiver an active alias, message center active (and in the customer's "
        "department when customers are departmentalized); `issueType.id` only with a message "
        "center and associated with it; the partition's email and body size limits. The "
        "department is the message center's, else the receiver's, else the answered "
        "activity's. Answers 201 with `Location` and no body."
    ),
    responses={
        **created_response("email activity"),
        **error_responses(400, 401, 403, 404, 406, 413, 415, 500),
    },
    openapi_extra={
        **v3_request_body(EmailResponseBody, "activity", _SAMPLES),
        **parameters(
            parameter(
                CUSTOMER,
                "Act for this customer, who must have granted the logged-in customer the right "
                "(400 otherwise). Empty or absent: for the logged-in customer.",
            )
        ),
    },
)
async def create_email_response_route(
    request: Request,
    ids: str,
    actor: Actor = Depends(authorized(ActorType.CUSTOMER, access=Access.MANAGE)),
) -> Response:
    check_query(request, QUERY_PARAMETERS)
    activity_ids = path_ids(ids)
    customer_id = optional_id(request, CUSTOMER)
    body = await read_v3_body(request)
    command = email_response_command(body, activity_ids, customer_id)
    runtime = runtime_of(request)
    async with runtime.database.uow() as uow:
        activity = await create_email_response(uow, runtime.blobs, actor, command)
        await uow.commit()
    assert activity.id is not None
    return created(activity.id)
