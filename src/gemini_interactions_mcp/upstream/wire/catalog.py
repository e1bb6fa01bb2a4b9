"""The Gemini API's model listing: `GET /{version}/models` (camelCase JSON, paged)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from ._base import WireModel

__all__ = ["ModelInfo", "ModelPage"]


class _Camel(WireModel):
    # This resource speaks camelCase, unlike the Interactions API.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict of the fields that were set, with their wire names."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


class ModelInfo(_Camel):
    """One model: its resource name (`models/{id}`), limits and capabilities."""

    name: str = ""
    base_model_id: str | None = None
    version: str | None = None
    display_name: str | None = None
    description: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_generation_methods: list[str] = Field(default_factory=list)
    thinking: bool | None = None
    temperature: float | None = None
    max_temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None

    @property
    def id(self) -> str:
        """The id a create takes as `model` (the name without `models/`)."""
        return self.name.removeprefix("models/")


class ModelPage(_Camel):
    """One page of the listing; no `next_page_token` means it was the last."""

    models: list[ModelInfo] = Field(default_factory=list)
    next_page_token: str | None = None
