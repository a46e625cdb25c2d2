"""Request bodies of the Uniphore contact APIs, with the exact limits of the field table
(specs/uniphore-contacts-email.txt; field names from api-notes §3), and the translation of
pydantic's findings into domain errors that name the field (`data.msgId`, `metadata.orgName`).

Types are strict, as the table's are: `ts` is a JSON integer (a Long), not a string or a float;
`to`, `cc` and `bcc` are arrays of addresses. Unknown fields are ignored (forward compatible);
a misspelt required one is then reported as missing. Emptiness counts as missing for required
strings, except `sub` and `body`, which an email may leave empty.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from emaildesk.api.uniphore.errors import FIELD_DETAIL, ContactPayloadError
from emaildesk.domain import errors
from emaildesk.domain.analytics import (
    LANGUAGES,
    MAX_AGENT_EMAIL_LENGTH,
    MAX_AGENT_ID_LENGTH,
    MAX_BODY_BYTES,
    MAX_CONV_ID_LENGTH,
    MAX_FROM_LENGTH,
    MAX_JOURNEY_ID_LENGTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_MSG_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PS_EMAIL_LENGTH,
    MAX_PS_ID_LENGTH,
    MAX_SUBJECT_LENGTH,
    EmailContact,
    body_size,
    is_valid_contact_address,
)
from emaildesk.domain.analytics import MAX_ADDRESS_LENGTH as MAX_LISTED_ADDRESS_LENGTH
from emaildesk.domain.errors import DomainError
from emaildesk.services.analytics_ingest import MetadataInsertion

MAX_LONG = 2**63 - 1  # Java's Long.MAX_VALUE: the table's "Long"
Model = TypeVar("Model", bound=BaseModel)
_EMAIL_ADDRESS_ERROR = "email_address"
_BODY_SIZE_ERROR = "body_size"


def _address(value: str) -> str:
    if not is_valid_contact_address(value):
        raise PydanticCustomError(_EMAIL_ADDRESS_ERROR, "not a valid email address")
    return value


def _body(value: str) -> str:
    if body_size(value) > MAX_BODY_BYTES:
        raise PydanticCustomError(_BODY_SIZE_ERROR, "larger than 1 MB")
    return value


def _text(max_length: int, min_length: int = 1) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length)


def _address_of(max_length: int) -> tuple[Any, ...]:
    return (_text(max_length), AfterValidator(_address))


AgentEmail = Annotated[str, *_address_of(MAX_AGENT_EMAIL_LENGTH)]
ParticipantEmail = Annotated[str, *_address_of(MAX_PS_EMAIL_LENGTH)]
FromAddress = Annotated[str, *_address_of(MAX_FROM_LENGTH)]
ListedAddress = Annotated[str, *_address_of(MAX_LISTED_ADDRESS_LENGTH)]
Name = Annotated[str, _text(MAX_NAME_LENGTH)]
MetadataKey = Annotated[str, _text(MAX_METADATA_KEY_LENGTH)]
MetadataValue = Annotated[str, _text(MAX_METADATA_VALUE_LENGTH, 0)]
MetadataMap = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=MAX_METADATA_KEYS)]
Language = Literal["us-en", "au-en", "gb-en"]  # = domain LANGUAGES (a unit test keeps them equal)


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class ContactMetadata(_Body):
    tenant_name: Name = Field(alias="tenantName", description="The client (tenant), ≤ 128.")
    org_name: Name = Field(alias="orgName", description="The organization, ≤ 128.")
    cat_name: Name = Field(alias="catName", description="The category, ≤ 128.")
    metadata_map: MetadataMap | None = Field(
        default=None,
        alias="metadataMap",
        description="Non-speech metadata: string values; at most 50 keys per category over "
        "all its contacts; no restricted key (the tenant's list).",
    )


class EmailData(_Body):
    conv_id: Annotated[str, _text(MAX_CONV_ID_LENGTH)] = Field(alias="convId")
    msg_id: Annotated[str, _text(MAX_MSG_ID_LENGTH)] = Field(alias="msgId")
    lang: Language = Field(description="Country-language order: us-en, au-en or gb-en.")
    sub: Annotated[str, _text(MAX_SUBJECT_LENGTH, 0)] = Field(description="Subject, ≤ 78.")
    ts: Annotated[int, Field(ge=0, le=MAX_LONG)] = Field(description="Epoch milliseconds.")
    body: Annotated[str, AfterValidator(_body)] = Field(description="≤ 1 MB of UTF-8.")
    agent_id: Annotated[str, _text(MAX_AGENT_ID_LENGTH)] = Field(alias="agentId")
    ps_id: Annotated[str, _text(MAX_PS_ID_LENGTH)] = Field(alias="psId")
    agent_email: AgentEmail = Field(
        alias="agentEmailId", description="Decides agent vs participant: from == agentEmailId."
    )
    ps_email: ParticipantEmail = Field(alias="psEmailId")
    from_address: FromAddress = Field(alias="from")
    to: list[ListedAddress] = Field(min_length=1)
    cc: list[ListedAddress] = Field(default_factory=list)
    bcc: list[ListedAddress] = Field(default_factory=list)
    journey_id: Annotated[str, _text(MAX_JOURNEY_ID_LENGTH)] | None = Field(
        default=None, alias="journeyId"
    )


class EmailContactRequest(_Body):
    """`POST /contacts/email`."""

    metadata: ContactMetadata
    data: EmailData

    def contact(self) -> EmailContact:
        m, d = self.metadata, self.data
        return EmailContact(
            tenant_name=m.tenant_name,
            organization_name=m.org_name,
            category_name=m.cat_name,
            conv_id=d.conv_id,
            msg_id=d.msg_id,
            lang=d.lang,
            subject=d.sub,
            ts=d.ts,
            body=d.body,
            agent_id=d.agent_id,
            participant_id=d.ps_id,
            agent_email=d.agent_email,
            participant_email=d.ps_email,
            from_address=d.from_address,
            to=tuple(d.to),
            cc=tuple(d.cc),
            bcc=tuple(d.bcc),
            journey_id=d.journey_id,
            metadata_map=dict(m.metadata_map or {}),
        )


class InsertionMetadata(_Body):
    tenant_name: Name = Field(alias="tenantName")
    org_name: Name = Field(alias="orgName")
    cat_name: Name = Field(alias="catName")
    metadata_map: Annotated[MetadataMap, Field(min_length=1)] = Field(alias="metadataMap")


class InsertionData(_Body):
    contact_id: Annotated[str, _text(MAX_CONV_ID_LENGTH)] = Field(
        alias="contactId", description="The convId of an ingested email conversation."
    )


class MetadataInsertionRequest(_Body):
    """`POST /contacts/nsmeta/insertion`."""

    metadata: InsertionMetadata
    data: InsertionData

    def insertion(self) -> MetadataInsertion:
        return MetadataInsertion(
            tenant_name=self.metadata.tenant_name,
            organization_name=self.metadata.org_name,
            category_name=self.metadata.cat_name,
            contact_id=self.data.contact_id,
            metadata_map=dict(self.metadata.metadata_map),
        )


def parse(model: type[Model], data: Mapping[str, Any]) -> Model:
    """Validate a parsed JSON body; ContactPayloadError lists every problem found."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ContactPayloadError([problem_of(e) for e in exc.errors()]) from None


def field_path(location: Sequence[int | str]) -> str:
    """('data', 'to', 1) → `data.to[1]`; a dict key's own error names the key."""
    text = ""
    for part in location:
        if part in ("[key]", ""):  # a dict key's own error, or an empty key: name the map
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def problem_of(error: Mapping[str, Any]) -> DomainError:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    attribute = field_path(error.get("loc", ()))
    where = {FIELD_DETAIL: attribute}
    if kind == "missing":
        return errors.REQUIRED_ATTRIBUTE(where, attribute=attribute)
    if kind == "string_too_short" or (kind == "too_short" and ctx.get("min_length") == 1):
        return errors.REQUIRED_ATTRIBUTE(where, attribute=attribute)
    if kind == "string_too_long":
        return errors.TOO_LONG(where, attribute=attribute, limit=ctx.get("max_length", "?"))
    if kind == "too_long" and attribute.endswith("metadataMap"):
        return errors.LIMIT_EXCEEDED(
            where, limit="metadataMap keys per category", value=MAX_METADATA_KEYS
        )
    if kind == "literal_error":
        return errors.INVALID_ENUM_VALUE(where, attribute=attribute, values=", ".join(LANGUAGES))
    if kind == _EMAIL_ADDRESS_ERROR:
        return errors.INVALID_EMAIL_ADDRESS(where, attribute=attribute)
    if kind == _BODY_SIZE_ERROR:
        return errors.BODY_TOO_LARGE(where, limit=MAX_BODY_BYTES // 1024)
    return errors.INVALID_ATTRIBUTE(where, attribute=attribute)


def request_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI `requestBody` for a route that reads its body itself (to cap its size and
    report problems in the Uniphore envelope), with the model's `$defs` inlined."""
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return inline(copy.deepcopy(definitions[reference.removeprefix("#/$defs/")]))
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline(schema)}},
        }
    }
