"""`POST /core/casemgr/v3/activity/task`: a user or a client application creates a task activity
(specs/egain-v3-task-activity.txt).

The route translates only: bearer token (users and client applications, `manage` scope), the
query parameters `searchContactOnAttribute` (required: 400-112 from the use case),
`createCustomer` (only `yes`, 400-102) and `activityContact`, and the body in any of the five
content types, into `NewTask`; every rule is `services.task_activity`'s. Success is 201 with
`Location: /core/casemgr/v3/activity/{id}` and no body, sent after the commit.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Depends, Request, Response

from emaildesk.api.egain.query import check_query, yes_flag
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
from emaildesk.api.egain.v3.parameters import single_value
from emaildesk.api.egain.v3.requests import TaskBody, task_command
from emaildesk.api.egain.v3.responses import created
from emaildesk.api.runtime import runtime_of
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.services.task_activity import (
    ACTIVITY_CONTACT_KINDS,
    CONTACT_PARAMETER,
    SEARCH_PARAMETER,
    create_task,
)

router = APIRouter(tags=TAGS)

CREATE_CUSTOMER: Final = "createCustomer"
QUERY_PARAMETERS: Final = (SEARCH_PARAMETER, CREATE_CUSTOMER, CONTACT_PARAMETER)
PATH: Final = "/core/casemgr/v3/activity/task"

_SAMPLES = {
    "seed-004": {
        "department": {"name": "Service"},
        "type": {"value": "task", "subtype": {"value": "general"}},
        "subject": "Follow up with customer",
        "customer": {
            "contacts": {"contact": [{"email": [{"emailAddress": "maria.lopez@example.net"}]}]}
        },
    },
    "client-application-new-customer": {
        "department": {"name": "Service"},
        "type": {"value": "task", "subtype": {"value": "callback"}},
        "subject": "Call back about the refund",
        "payload": {"task": {"content": {"type": "text", "value": "Customer asked for a call."}}},
        "priority": "2",
        "dueDate": "2030-01-15T09:00:00.000Z",
        "customer": {
            "contacts": {
                "contact": [
                    {
                        "firstName": "Nora",
                        "lastName": "Quinn",
                        "email": [{"emailAddress": "nora.quinn@example.org"}],
                        "phone": [{"phoneNumber": "+1 555 0199", "type": "mobile"}],
                    }
                ]
            }
        },
        "status": {"assigned": {"user": {"loginId": "agent1"}}},
        "attachments": {"attachment": [{"altId": "<altId from the upload>"}]},
    },
}


@router.post(
    PATH,
    status_code=201,
    response_class=Response,
    summary="Create a task activity (user or client application)",
    description=(
        'eGain Case Manager v3 "Create task activity". Users (need Create on Activity, a '
        "user licence, membership of the activity's department, transfer permission on a "
        "target user) and client applications (must name the target user); customers get "
        "403-112; token scope `core.casemgr.manage` / `app.core.casemgr.manage` (403-197). "
        "`searchContactOnAttribute` is required (400-112): the customer is looked up on that "
        "contact attribute (in the activity's department when customers are "
        "departmentalized), created from the `customer` element when `createCustomer=yes`, "
        "else 400. `activityContact` links the task to that contact point. Body: "
        "`department.name`, `type.value` task, a configured task subtype, subject or "
        "`payload.task.content`, priority 1–7, a future `dueDate`, attachments by `altId`, "
        "at most one of `status.assigned.user.id|loginId|externalId|customAttributes`. "
        "Answers 201 with `Location` and no body."
    ),
    responses={
        **created_response("task activity"),
        **error_responses(400, 401, 403, 406, 413, 415, 500),
    },
    openapi_extra={
        **v3_request_body(TaskBody, "activity", _SAMPLES),
        **parameters(
            parameter(
                SEARCH_PARAMETER,
                "Contact attribute the customer is looked up on: email.emailAddress, "
                "home.phone, mobile.phone, office.phone, social.facebookId, social.twitterId, "
                "social.instagramId or custom.<attribute_name>. Its value must be in the "
                "`customer` element.",
                required=True,
            ),
            parameter(
                CREATE_CUSTOMER,
                "Create the customer (individual) when the lookup finds none.",
                enum=["yes"],
            ),
            parameter(
                CONTACT_PARAMETER,
                "Link the task to this contact point of the customer.",
                enum=[kind.value for kind in ACTIVITY_CONTACT_KINDS],
            ),
        ),
    },
)
async def create_task_route(
    request: Request,
    actor: Actor = Depends(
        authorized(ActorType.USER, ActorType.CLIENT_APPLICATION, access=Access.MANAGE)
    ),
) -> Response:
    check_query(request, QUERY_PARAMETERS)
    search = single_value(request, SEARCH_PARAMETER)
    create_customer = yes_flag(request, CREATE_CUSTOMER)
    activity_contact = single_value(request, CONTACT_PARAMETER)
    body = await read_v3_body(request)
    command = task_command(
        body,
        search_contact_on_attribute=search,
        create_customer=create_customer,
        activity_contact=activity_contact,
    )
    runtime = runtime_of(request)
    async with runtime.database.uow() as uow:
        activity = await create_task(uow, runtime.blobs, actor, command)
        await uow.commit()
    assert activity.id is not None
    return created(activity.id)
