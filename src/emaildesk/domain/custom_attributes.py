"""Custom attribute definitions and the rules values must follow.

eGain: a name must match a configured attribute of the entity; an enumerated attribute takes only
its values; a free string takes only the allowed characters (api-notes §1.7: `a-z A-Z 0-9 @ space
: . _ - & , ( ) ? # = ' "` and everything above ASCII 128; notably `+` is refused).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from emaildesk.domain import errors

_ALLOWED_ASCII = frozenset(string.ascii_letters + string.digits + "@ :._-&,()?#='\"")
MAX_VALUE_LENGTH = 255
# ASCII digits only: str.isdigit() also takes "²" and "١", and lstrip("-") took "--1".
_INTEGER = re.compile(r"-?[0-9]+")


class AttributeEntity(Enum):
    """Which kind of record a custom attribute belongs to."""

    ACTIVITY = "activity"
    CONTACT = "contact"
    USER = "user"


class AttributeType(Enum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"


def has_allowed_characters(value: str) -> bool:
    """eGain's allow-list for non-enumerated string attributes."""
    return all(ch in _ALLOWED_ASCII or ord(ch) > 128 for ch in value)


@dataclass(eq=False)
class CustomAttributeDefinition:
    name: str
    entity: AttributeEntity
    type: AttributeType = AttributeType.STRING
    enum_values: list[str] = field(default_factory=list)
    id: int | None = None

    def check(self, value: str) -> None:
        """Raise the eGain-style error for a value this attribute does not accept."""
        if self.enum_values:
            if value not in self.enum_values:
                raise errors.CUSTOM_ATTRIBUTE_NOT_IN_ENUM(
                    name=self.name, values=", ".join(self.enum_values)
                )
            return
        if len(value) > MAX_VALUE_LENGTH:
            raise errors.TOO_LONG(attribute=f"customAttributes.{self.name}", limit=MAX_VALUE_LENGTH)
        if self.type is AttributeType.INTEGER:
            if not _INTEGER.fullmatch(value):
                raise errors.INVALID_ATTRIBUTE(attribute=f"customAttributes.{self.name}")
        elif self.type is AttributeType.BOOLEAN:
            if value not in ("true", "false"):
                raise errors.INVALID_ENUM_VALUE(
                    attribute=f"customAttributes.{self.name}", values="true, false"
                )
        elif not has_allowed_characters(value):
            raise errors.CUSTOM_ATTRIBUTE_CHARACTERS(name=self.name)


def validate_custom_attributes(
    values: Mapping[str, str], definitions: Mapping[str, CustomAttributeDefinition]
) -> dict[str, str]:
    """Check every value against its definition (keyed by name); unknown names are refused."""
    for name, value in values.items():
        definition = definitions.get(name)
        if definition is None:
            raise errors.UNKNOWN_CUSTOM_ATTRIBUTE(name=name)
        definition.check(value)
    return dict(values)
