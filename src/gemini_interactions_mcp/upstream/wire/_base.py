"""Shared machinery for the wire models: lenient models and open tagged unions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

# The tag that routes a value to the Unknown member of an open union.
UNKNOWN = "__unknown__"
_TAG_FIELDS = ("type", "event_type")


class WireModel(BaseModel):
    """A wire object: unknown fields are kept, so a newer server never loses data."""

    model_config = ConfigDict(extra="allow")

    def model_post_init(self, context: Any, /) -> None:
        # The tag is part of what the object is, even when it came from a default:
        # keep it in `model_fields_set` so `to_wire()` always writes it.
        for tag in _TAG_FIELDS:
            if tag in type(self).model_fields:
                self.model_fields_set.add(tag)

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict of the fields that were set (as received, or as built)."""
        return self.model_dump(mode="json", exclude_unset=True)


class UnknownModel(WireModel):
    """A value whose type this client does not know (or that did not validate)."""

    @property
    def raw(self) -> dict[str, Any]:
        """The object exactly as it came over the wire."""
        return self.model_dump(mode="json", exclude_unset=True)


def open_tag(key: str, unknown: type[UnknownModel]) -> Discriminator:
    """Discriminate on `key`; an instance of `unknown` always routes to the Unknown member.

    Unknown tag values fail the tagged union on purpose; `fallback` then keeps them.
    """

    def tag_of(value: Any) -> Any:
        if isinstance(value, unknown):
            return UNKNOWN
        if isinstance(value, Mapping):
            return value.get(key)
        return getattr(value, key, None)

    return Discriminator(tag_of)


def fallback(unknown: type[UnknownModel]) -> WrapValidator:
    """Turn anything the tagged union rejects into `unknown`, never an error."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raw = dict(value) if isinstance(value, Mapping) else {"value": value}
            return unknown.model_validate(raw)

    return WrapValidator(validate)
