"""Typed models of the Interactions wire (steps schema), lenient by design.

Every model keeps unknown fields; every tagged union (content, annotation, step,
delta, event) has an Unknown member that keeps the raw object, so a newer server
never makes this client crash. Statuses are plain strings (see `Status`).
"""

from ._base import UnknownModel, WireModel
from .catalog import *  # noqa: F403
from .catalog import __all__ as _catalog_all
from .content import *  # noqa: F403
from .content import __all__ as _content_all
from .deltas import *  # noqa: F403
from .deltas import __all__ as _deltas_all
from .events import *  # noqa: F403
from .events import __all__ as _events_all
from .interaction import *  # noqa: F403
from .interaction import __all__ as _interaction_all
from .steps import *  # noqa: F403
from .steps import __all__ as _steps_all
from .tools import *  # noqa: F403
from .tools import __all__ as _tools_all
from .usage import *  # noqa: F403
from .usage import __all__ as _usage_all

__all__ = [
    "UnknownModel",
    "WireModel",
    *_catalog_all,
    *_content_all,
    *_deltas_all,
    *_events_all,
    *_interaction_all,
    *_steps_all,
    *_tools_all,
    *_usage_all,
]
