"""Pydantic models for eGain request bodies, shared by the v12 and v3 routes.

eGain's JSON is a JAXB mirror of its XML (api-notes §1.5), and clients send it loosely: booleans
and ids as strings (`"isSecure": "true"`, `"id": "1060"`), a repeated element as a list or, when
it occurs once, as a bare object, address lists as a string, a list or `{"address": [...]}`, and
`payload.email.contents` (v12) or `payload.email.content` (v3). The models accept every documented
form and normalize it, so the routes see one shape. Validation failures become eGain errors
naming the attribute path (`payload.email.emailAddresses.from`), never FastAPI's 422.

Unknown elements are ignored, as JAXB does; rules about values (lengths, formats, existence)
belong to the use cases, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _bool(value: Any) -> Any:
    """`true`/`false` in any case, as strings or JSON booleans (eGain v12 `isSecure`)."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _text(value: Any) -> Any:
    """Ids and numbers may arrive as JSON numbers; the models hold text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


def _many(value: Any) -> Any:
    """One element or a list of them (JSON written by hand, or XML with one occurrence)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _addresses(value: Any) -> Any:
    """`"a@x.com"`, `"a@x.com, b@y.com"`, `["a@x.com"]`, `{"address": [...]}`, or XML's
    `<to><address>…</address></to>` (which parses to the dict form)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = value.get("address", [])
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return _many(value)


Bool = Annotated[bool, BeforeValidator(_bool)]
Text = Annotated[str, BeforeValidator(_text)]
AddressList = Annotated[list[str], BeforeValidator(_addresses)]


OneOrMany = Annotated[list[T], BeforeValidator(_many)]


class EgainModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=False)


class Named(EgainModel):
    name: Text | None = None


class IdRef(EgainModel):
    id: Text | None = None


class SubtypeValue(EgainModel):
    value: Text | None = None


class TypeValue(EgainModel):
    value: Text | None = None
    subtype: SubtypeValue | None = None


class Content(EgainModel):
    type: Text | None = None
    value: Text | None = None


class Contents(EgainModel):
    content: OneOrMany[Content] = Field(default_factory=list)


class DateValue(EgainModel):
    date: Text | None = None


class AttribValue(EgainModel):
    value: Text | None = None


class AttribValues(EgainModel):
    attribValue: OneOrMany[AttribValue] = Field(default_factory=list)  # noqa: N815 - eGain name


class CustomAttribute(EgainModel):
    attribName: Text | None = None  # noqa: N815 - eGain name
    attribValues: AttribValues | None = None  # noqa: N815 - eGain name


class CustomAttributes(EgainModel):
    customAttribute: OneOrMany[CustomAttribute] = Field(default_factory=list)  # noqa: N815


class EmailAddressValue(EgainModel):
    emailAddress: Text | None = None  # noqa: N815 - eGain name


class PhoneValue(EgainModel):
    phoneNumber: Text | None = None  # noqa: N815 - eGain name
    type: Text | None = None


class SocialValue(EgainModel):
    facebookId: Text | None = None  # noqa: N815 - eGain name
    twitterId: Text | None = None  # noqa: N815 - eGain name
    instagramId: Text | None = None  # noqa: N815 - eGain name


class ContactModel(EgainModel):
    """A contact of the "Create Individual Customer" representation (api-notes §1.5: [U];
    modelled on the v3 GET shape: firstName/lastName plus contact points by kind)."""

    firstName: Text | None = None  # noqa: N815 - eGain name
    lastName: Text | None = None  # noqa: N815 - eGain name
    email: OneOrMany[EmailAddressValue] = Field(default_factory=list)
    phone: OneOrMany[PhoneValue] = Field(default_factory=list)
    social: OneOrMany[SocialValue] = Field(default_factory=list)
    customAttributes: CustomAttributes | None = None  # noqa: N815 - eGain name


class Contacts(EgainModel):
    contact: OneOrMany[ContactModel] = Field(default_factory=list)


class CustomerModel(EgainModel):
    contacts: Contacts | None = None


def custom_attribute_values(model: CustomAttributes | None, path: str) -> dict[str, str]:
    """`{"customAttribute": [{"attribName": n, "attribValues": {"attribValue": [{"value": v}]}}]}`
    → `{n: v}`; one value per attribute (eGain's single-valued custom attributes)."""
    values: dict[str, str] = {}
    for index, item in enumerate(model.customAttribute if model else []):
        if not item.attribName:
            raise errors.REQUIRED_ATTRIBUTE(attribute=f"{path}.customAttribute[{index}].attribName")
        listed = item.attribValues.attribValue if item.attribValues else []
        given = [v.value for v in listed if v.value is not None]
        if len(given) != 1:
            raise errors.INVALID_ATTRIBUTE(attribute=f"{path}.{item.attribName}")
        values[item.attribName] = given[0]
    return values


def text_and_html(contents: list[Content], path: str) -> tuple[str | None, str | None]:
    """eGain: content types "text" and "html", one or both, each at most once."""
    found: dict[str, str] = {}
    for index, content in enumerate(contents):
        kind = (content.type or "").strip().lower()
        if kind not in ("text", "html"):
            raise errors.INVALID_ENUM_VALUE(attribute=f"{path}[{index}].type", values="text, html")
        if kind in found:
            raise errors.INVALID_ATTRIBUTE(attribute=f"{path}[{index}].type")
        found[kind] = content.value or ""
    return found.get("text"), found.get("html")


def validate_body(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate a parsed body (JSON or XML, see `codecs.body`) into `model`, or raise the
    eGain error for the first problem, naming its attribute path."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise error_from_validation(exc) from None


def error_from_validation(exc: ValidationError) -> DomainError:
    problem = exc.errors(include_url=False)[0]
    path = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
    if problem["type"] == "missing":
        return errors.REQUIRED_ATTRIBUTE(attribute=path)
    return errors.INVALID_ATTRIBUTE(attribute=path or "body")
