"""The model registry: which name means which Gemini model or agent.

The data lives in ``models.toml`` beside this module (package data), so a new model or a
retirement needs an edited file, not a release; a user's file is merged over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["ModelRegistry", "Resolution", "packaged_registry_text"]

_KEYS = {"default", "default_agent", "current", "agents", "aliases", "deprecated"}


PACKAGED = "models.toml (packaged)"


def packaged_registry_text() -> str:
    """The registry shipped with the package."""
    from importlib.resources import files

    return files(__package__).joinpath("models.toml").read_text(encoding="utf-8")


def _normalise(name: str) -> str:
    return name.strip().lower().removeprefix("models/")


@dataclass(frozen=True)
class Resolution:
    """What a requested name turned into, and a note for the caller if it was swapped."""

    requested: str
    id: str
    is_agent: bool
    note: str | None = None


@dataclass(frozen=True)
class _Tables:
    """The registry file's content, checked and normalised, before merging."""

    scalars: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, dict[str, str]] = field(default_factory=dict)


def _read(path: Path) -> _Tables:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the model registry {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"the model registry {path} is not valid TOML: {exc}") from exc
    return _parse(text, path)


def _parse(text: str, path: Path | str) -> _Tables:
    import tomllib

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the model registry {path} is not valid TOML: {exc}") from exc
    return _check(raw, path)


def _check(raw: dict[str, Any], path: Path | str) -> _Tables:
    def bad(what: str) -> ValueError:
        return ValueError(f"the model registry {path}: {what}")

    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise bad(
            f"unknown key(s) {', '.join(unknown)}; expected some of {', '.join(sorted(_KEYS))}"
        )
    tables = _Tables()
    for key in ("default", "default_agent"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip():
                raise bad(f"'{key}' must be a non-empty string")
            tables.scalars[key] = _normalise(value)
    for key in ("current", "agents"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, list) or not all(
                isinstance(item, str) and item.strip() for item in value
            ):
                raise bad(f"'{key}' must be a list of non-empty strings")
            tables.lists[key] = [_normalise(item) for item in value]
    for key in ("aliases", "deprecated"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, dict) or not all(
                isinstance(target, str) for target in value.values()
            ):
                raise bad(f"[{key}] must be a table of names to model ids (strings)")
            entries = {_normalise(name): _normalise(target) for name, target in value.items()}
            # Only retirements take patterns: an alias is a name someone types.
            for name in entries:
                bad_star = "*" in name if key == "aliases" else "*" in name[:-1] or name == "*"
                if not name or bad_star:
                    raise bad(
                        f"[{key}] has a bad name {name!r}; '*' may only end a [deprecated] name"
                    )
            tables.tables[key] = entries
    return tables


def _merge(base: _Tables, over: _Tables) -> _Tables:
    merged = _Tables(
        scalars={**base.scalars, **over.scalars},
        lists={key: list(items) for key, items in base.lists.items()},
        tables={key: dict(entries) for key, entries in base.tables.items()},
    )
    for key, items in over.lists.items():
        known = merged.lists.setdefault(key, [])
        known.extend(item for item in items if item not in known)
    for key, entries in over.tables.items():
        merged.tables.setdefault(key, {}).update(entries)
    return merged


@dataclass(frozen=True)
class ModelRegistry:
    """Aliases, retirements and known ids; resolves what a caller asked for."""

    default_model: str
    default_agent: str
    current: tuple[str, ...]
    agents: tuple[str, ...]
    aliases: Mapping[str, str]
    deprecated: Mapping[str, str]

    @classmethod
    def load(cls, path: Path | None = None) -> ModelRegistry:
        """The packaged registry, with the user's file at `path` (if any) merged over it.

        Raises ValueError naming the file when it cannot be read or has a bad shape.
        """
        tables = _parse(packaged_registry_text(), PACKAGED)
        origin: Path | str = PACKAGED
        if path is not None:
            tables = _merge(tables, _read(path))
            origin = path
        for key in ("default", "default_agent"):
            if key not in tables.scalars:
                raise ValueError(f"the model registry {origin}: '{key}' is missing")

        def entries(key: str) -> Mapping[str, str]:
            # An empty target lets a user file remove a packaged entry.
            kept = {name: target for name, target in tables.tables.get(key, {}).items() if target}
            return MappingProxyType(kept)

        registry = cls(
            default_model=tables.scalars["default"],
            default_agent=tables.scalars["default_agent"],
            current=tuple(tables.lists.get("current", ())),
            agents=tuple(tables.lists.get("agents", ())),
            aliases=entries("aliases"),
            deprecated=entries("deprecated"),
        )
        try:
            for name in (*registry.aliases, *registry.deprecated.values()):
                registry._follow(name)
        except ValueError as exc:
            raise ValueError(f"the model registry {origin}: {exc}") from exc
        return registry

    def _replacement(self, id: str) -> str | None:
        exact = self.deprecated.get(id)
        if exact is not None:
            return exact
        # The longest matching prefix wins, so a specific pattern can refine a broad one.
        matches = [
            (len(pattern), target)
            for pattern, target in self.deprecated.items()
            if pattern.endswith("*") and id.startswith(pattern[:-1])
        ]
        return max(matches)[1] if matches else None

    def _follow(self, name: str) -> tuple[str, str | None]:
        """The id `name` finally means, and the first deprecated id met on the way."""
        seen: set[str] = set()
        current, retired = name, None
        while True:
            if current in seen:
                raise ValueError(f"{name!r} leads to a loop of aliases or replacements")
            seen.add(current)
            if current in self.aliases:
                current = self.aliases[current]
                continue
            replacement = self._replacement(current)
            if replacement is None:
                return current, retired
            retired = retired or current
            current = replacement

    def resolve(self, name: str | None) -> Resolution:
        """Resolve a model name: empty -> default, alias -> target, deprecated -> replacement.

        Unknown ids are returned unchanged: new models appear often and upstream decides.
        """
        requested = name or ""
        id, retired = self._follow(_normalise(requested) or self.default_model)
        note = f"{retired} is deprecated; used {id} instead" if retired else None
        return Resolution(requested=requested, id=id, is_agent=id in self.agents, note=note)

    def resolve_agent(self, name: str | None) -> Resolution:
        """Resolve an agent name (empty -> the default agent).

        Raises ValueError if the name is a known model rather than an agent; an unknown
        id is passed through as an agent.
        """
        resolution = self.resolve(_normalise(name or "") or self.default_agent)
        resolution = replace(resolution, requested=name or "")
        if resolution.is_agent:
            return resolution
        if resolution.id in self.current or resolution.id in self.aliases.values():
            agents = ", ".join(self._agent_names())
            raise ValueError(f"{resolution.id} is a model, not an agent; use one of: {agents}")
        return replace(resolution, is_agent=True)

    def _agent_names(self) -> list[str]:
        named = {alias: target for alias, target in self.aliases.items() if target in self.agents}
        covered = set(named.values())
        return [*named, *(agent for agent in self.agents if agent not in covered)]

    def choices(self) -> str:
        """A sentence listing what callers can ask for, for "model not found" errors."""
        model_aliases = [
            alias for alias, target in self.aliases.items() if target not in self.agents
        ]
        return (
            f"Use an alias ({', '.join(model_aliases)}) or a model id "
            f"({', '.join(self.current)}); for Deep Research: {', '.join(self._agent_names())}."
        )
