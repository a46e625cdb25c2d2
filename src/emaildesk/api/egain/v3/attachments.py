"""Attachments of the v3 API: the upload that yields an `altId`, and the downloads.

- `POST /core/casemgr/v3/activity/attachment` — the pre-upload the v3 create APIs reference by
  `altId` (specs/egain-v3-*.txt "Attachments Element"; the casemgr endpoint is [U], modelled on
  eGain v4's pre-upload answer `{"altId", "name", "contentUrl"}`, api-notes §1.5). One file in
  `multipart/form-data` (`uploads.read_upload`); the checks are `upload_attachment`'s, at upload
  time: file name and content type ≤ 255, blocked file types, the partition's maximum email
  size. Customers, users and client applications may upload (`manage` scope); an upload is
  claimable by its uploader only. Answers 201 `{"altId", "name", "contentType", "size"}` (JSON
  or XML) with `Location` of the upload.
- `GET /core/casemgr/v3/activity/attachment/{altId}` — the upload's bytes, for its uploader
  only and only until an activity claims it (then it is the activity's: the next URL).
- `GET /core/casemgr/v3/activity/{id}/attachment/{attachmentId}` — an activity's attachment,
  the link of the v3 representation; visible exactly when the activity is
  (`get_activities`), otherwise 404-101. A customer's links carry `?customer=`, so customers
  may send it (see `activities`).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from emaildesk.api.codecs.xml import render_xml
from emaildesk.api.egain import xml_names
from emaildesk.api.egain.common import document_response
from emaildesk.api.egain.query import check_query
from emaildesk.api.egain.v3.activities import only_customer
from emaildesk.api.egain.v3.auth import ALL_ACTORS, Access, authorized
from emaildesk.api.egain.v3.openapi import (
    TAGS,
    created_response,
    error_responses,
    parameter,
    parameters,
)
from emaildesk.api.egain.v3.parameters import CUSTOMER, optional_id, path_ids
from emaildesk.api.egain.v3.responses import HTTP_CREATED, upload_location
from emaildesk.api.egain.v3.uploads import content_disposition, read_upload, served_media_type
from emaildesk.api.runtime import runtime_of
from emaildesk.domain import errors
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.attachments import Attachment
from emaildesk.services.activity_queries import get_activities
from emaildesk.services.attachment_uploads import upload_attachment
from emaildesk.services.ports import UnitOfWork

router = APIRouter(tags=TAGS)

UPLOAD_PATH: Final = "/core/casemgr/v3/activity/attachment"
UPLOAD_XML_ROOT: Final = "attachment"
NO_SNIFF: Final = {"X-Content-Type-Options": "nosniff"}  # WHATWG Fetch §3.5: never sniff

_UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["altId", "name", "contentType", "size"],
    "properties": {
        "altId": {"type": "string", "description": "Reference it in `attachments.attachment`."},
        "name": {"type": "string"},
        "contentType": {"type": "string"},
        "size": {"type": "integer"},
    },
}
_BYTES = {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}


def _upload_document(attachment: Attachment) -> dict[str, object]:
    return {
        "altId": attachment.alt_id,
        "name": attachment.file_name,
        "contentType": attachment.content_type,
        "size": attachment.size,
    }


def _render_upload_xml(document: object) -> bytes:
    assert isinstance(document, dict)
    return render_xml(UPLOAD_XML_ROOT, document, namespace=xml_names.ATTACHMENT)


async def _file_response(request: Request, attachment: Attachment) -> Response:
    blobs = runtime_of(request).blobs
    if not await blobs.exists(attachment.sha256):
        # A row whose bytes are gone is damage, not a client error (DESIGN.md "Data").
        raise errors.INTERNAL_ERROR()
    return StreamingResponse(
        blobs.stream(attachment.sha256),
        media_type=served_media_type(attachment.content_type),
        headers={
            "Content-Length": str(attachment.size),
            "Content-Disposition": content_disposition(attachment.file_name),
            **NO_SNIFF,
        },
    )


async def _own_upload(uow: UnitOfWork, actor: Actor, alt_id: str) -> Attachment:
    """The uploader's unclaimed upload, else 404-101 (the same answer for every reason)."""
    attachment = await uow.attachments.by_alt_id(alt_id)
    if (
        attachment is None
        or attachment.activity_id is not None
        or attachment.owner_type != actor.type.value
        or attachment.owner_id != actor.id
    ):
        raise errors.IDS_NOT_FOUND(ids=alt_id)
    return attachment


@router.post(
    UPLOAD_PATH,
    status_code=HTTP_CREATED,
    response_class=Response,
    summary="Upload an attachment (yields its altId)",
    description=(
        "Upload one file (`multipart/form-data`, one file part named `attachment` or `file`) "
        'to reference it by `altId` in an email response or a task (eGain v3 "Attachments '
        'Element"). Customers, users and client applications; scope `manage` (403-197). '
        "Checked now: file name and content type ≤ 255 characters, blocked file types "
        "(400-2022), the partition's maximum email size (400-2020). Only the uploader can "
        "reference it, once. Answers 201 with `Location` and `{altId, name, contentType, "
        "size}`."
    ),
    responses={
        **created_response("upload", with_body=_UPLOAD_SCHEMA),
        **error_responses(400, 401, 403, 406, 413, 415, 500),
    },
    openapi_extra={
        **parameters(),
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "attachment": {"type": "string", "format": "binary"},
                        },
                        "required": ["attachment"],
                    }
                }
            },
        },
    },
)
async def upload_attachment_route(
    request: Request,
    actor: Actor = Depends(authorized(*ALL_ACTORS, access=Access.MANAGE)),
) -> Response:
    check_query(request, ())
    runtime = runtime_of(request)
    upload = await read_upload(request, runtime.settings.max_request_bytes)
    async with runtime.database.uow() as uow:
        attachment = await upload_attachment(
            uow, runtime.blobs, actor, upload.file_name, upload.content_type, upload.data
        )
        await uow.commit()
    assert attachment.alt_id is not None
    return document_response(
        request,
        _upload_document(attachment),
        _render_upload_xml,
        status_code=HTTP_CREATED,
        headers={"Location": upload_location(attachment.alt_id)},
    )


@router.get(
    f"{UPLOAD_PATH}/{{altId}}",
    summary="Download an upload not yet attached",
    description=(
        "The bytes of an upload, for its uploader only and only until an activity references "
        "it; otherwise 404-101. Scope `read` or `manage`."
    ),
    response_class=Response,
    responses={200: _BYTES, **error_responses(400, 401, 403, 404, 500)},
    openapi_extra=parameters(negotiated=False),
)
async def download_upload_route(
    request: Request,
    altId: str,  # noqa: N803 - the path parameter's eGain name
    actor: Actor = Depends(authorized(*ALL_ACTORS, access=Access.READ, negotiate=False)),
) -> Response:
    check_query(request, ())
    async with runtime_of(request).database.uow() as uow:
        attachment = await _own_upload(uow, actor, altId)
    return await _file_response(request, attachment)


@router.get(
    "/core/casemgr/v3/activity/{id}/attachment/{attachmentId}",
    summary="Download an attachment of an activity",
    description=(
        "The bytes of one attachment, with `Content-Type`, `Content-Length` and "
        "`Content-Disposition: attachment` (RFC 6266, the name in RFC 8187 form). Visible "
        "exactly when the activity is (as for `GET /core/casemgr/v3/activity/{ids}`): "
        "otherwise, or for an attachment of another activity, 404-101. Customers may send "
        "`customer` (their links carry it); nobody else may send a query parameter."
    ),
    response_class=Response,
    responses={200: _BYTES, **error_responses(400, 401, 403, 404, 500)},
    openapi_extra=parameters(
        parameter(CUSTOMER, "Customers only: the activity's customer (self or a grantor)."),
        negotiated=False,
    ),
)
async def download_attachment_route(
    request: Request,
    id: str,
    attachmentId: str,  # noqa: N803 - the path parameter's eGain name
    actor: Actor = Depends(authorized(*ALL_ACTORS, access=Access.READ, negotiate=False)),
) -> Response:
    check_query(request, (CUSTOMER,) if actor.type is ActorType.CUSTOMER else ())
    activity_ids = path_ids(id)
    if len(activity_ids) != 1:
        raise errors.INVALID_PATH_PARAMETER(value=id)
    attachment_ids = path_ids(attachmentId)
    if len(attachment_ids) != 1:
        raise errors.INVALID_PATH_PARAMETER(value=attachmentId)
    customer_id = optional_id(request, CUSTOMER)
    async with runtime_of(request).database.uow() as uow:
        view = await get_activities(uow, actor, activity_ids)
    only_customer(view, customer_id)
    found = [a for a in view.activities[0].attachments if a.id == attachment_ids[0]]
    if not found:
        raise errors.IDS_NOT_FOUND(ids=attachment_ids[0])
    return await _file_response(request, found[0])
