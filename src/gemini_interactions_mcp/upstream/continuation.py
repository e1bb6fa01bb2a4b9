"""Continuation hops: what to send when a turn stops at the per-request decode limit.

A turn that ends `requires_continuation` carries a `continuation_token`; the next hop is
another create with it (reference §3.5). Each hop is an interaction of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .wire import Interaction, Status

__all__ = ["next_hop_body"]


def next_hop_body(body: Mapping[str, Any], hop: Interaction) -> dict[str, Any] | None:
    """The create body of the next continuation hop, or None when the turn is over.

    Stored turns chain the hop by id and leave out the input; `store: false` turns
    resend the original input with the token. Background and agent runs are
    continued by the server, and a hop that hands back the token it was started with
    made no progress, so neither is continued here.
    """
    token = hop.continuation_token
    if hop.status != Status.REQUIRES_CONTINUATION or not token:
        return None
    if body.get("background") or "agent" in body or "agent_config" in body:
        return None
    if token == body.get("continuation_token"):
        return None
    following = {**body, "continuation_token": token}
    if body.get("store") is not False:
        following["previous_interaction_id"] = hop.id
        following.pop("input", None)
    return following
