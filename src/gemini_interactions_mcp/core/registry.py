"""The model registry: which name means which Gemini model or agent, and what each one is.

The data lives in ``models.toml`` beside this module (package data), so a new model, a
retirement or a new price needs an edited file, not a release; a user's file is merged over
it. ``python -m gemini_interactions_mcp.core.registry --markdown`` prints the README table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .pricing import UNKNOWN, Price, check_price, describe_rates, price_from

__all__ = ["ModelInfo", "ModelRegistry", "Resolution", "packaged_registry_text"]

_KEYS = {"default", "default_agent", "current", "agents", "aliases", "deprecated"}
_KEYS |= {"models", "prices"}
_MODEL_KEYS = {"status", "thinking_levels", "default_thinking", "input_tokens", "output_tokens"}
_MODEL_KEYS |= {"note", "source", "checked"}


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
class ModelInfo:
    """What is known of one model; ``None`` where nothing confirms a fact."""

    id: str
    status: str | None = None
    thinking_levels: tuple[str, ...] | None = None
    default_thinking: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    note: str | None = None
    source: str | None = None
    checked: date | None = None


@dataclass(frozen=True)
class _Tables:
    """The registry file's content, checked and normalised, before merging."""

    scalars: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


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
    for key, check in (("models", _check_model), ("prices", check_price)):
        if key in raw:
            value = raw[key]
            if not isinstance(value, dict):
                raise bad(f"[{key}] must be a table of model ids to tables")
            try:
                tables.records[key] = {
                    _normalise(id): check(entry, f'[{key}."{id}"]') for id, entry in value.items()
                }
            except ValueError as exc:
                raise bad(str(exc)) from exc
    return tables


def _check_model(entry: object, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a table")
    unknown = sorted(set(entry) - _MODEL_KEYS)
    if unknown:
        raise ValueError(
            f"{where} has unknown key(s) {', '.join(unknown)}; expected some of "
            f"{', '.join(sorted(_MODEL_KEYS))}"
        )
    checked = dict(entry)
    for key, value in entry.items():
        if value == UNKNOWN:
            continue
        if key in ("input_tokens", "output_tokens"):
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            what = "a positive number of tokens"
        elif key == "thinking_levels":
            ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
            what = "a list of level names"
            if ok:
                checked[key] = [level.strip().lower() for level in value]
        elif key == "checked":
            ok, what = isinstance(value, date), "a date like 2026-12-02 (without quotes)"
        else:
            ok, what = isinstance(value, str) and bool(value.strip()), "a non-empty string"
        if not ok:
            raise ValueError(f'{where} {key} must be {what} or "{UNKNOWN}"')
    levels, default = checked.get("thinking_levels"), checked.get("default_thinking")
    known_default = isinstance(default, str) and default != UNKNOWN
    if isinstance(levels, list) and known_default and str(default).lower() not in levels:
        raise ValueError(f"{where} default_thinking {default!r} is not in thinking_levels")
    return checked


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
    for key, records in base.records.items():
        merged.records[key] = {id: dict(entry) for id, entry in records.items()}
    for key, records in over.records.items():
        # Key by key, so a user file can correct one rate or one fact and keep the rest.
        for id, entry in records.items():
            merged.records.setdefault(key, {}).setdefault(id, {}).update(entry)
    return merged


def _known(entry: Mapping[str, Any], key: str) -> Any:
    value = entry.get(key)
    return None if value == UNKNOWN else value


def _model_info(id: str, entry: Mapping[str, Any]) -> ModelInfo:
    levels = _known(entry, "thinking_levels")
    default = _known(entry, "default_thinking")
    return ModelInfo(
        id=id,
        status=_known(entry, "status"),
        thinking_levels=None if levels is None else tuple(levels),
        default_thinking=None if default is None else default.lower(),
        input_tokens=_known(entry, "input_tokens"),
        output_tokens=_known(entry, "output_tokens"),
        note=_known(entry, "note"),
        source=_known(entry, "source"),
        checked=_known(entry, "checked"),
    )


@dataclass(frozen=True)
class ModelRegistry:
    """Aliases, retirements, known ids, model facts and prices; resolves what a caller asked for."""

    default_model: str
    default_agent: str
    current: tuple[str, ...]
    agents: tuple[str, ...]
    aliases: Mapping[str, str]
    deprecated: Mapping[str, str]
    models: Mapping[str, ModelInfo] = field(default_factory=dict)
    prices: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Checked ``[prices]`` tables by id; `price()` turns one into the rates of a day."""

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
            models=MappingProxyType(
                {id: _model_info(id, e) for id, e in tables.records.get("models", {}).items()}
            ),
            prices=MappingProxyType(dict(tables.records.get("prices", {}))),
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

    def info(self, id: str) -> ModelInfo | None:
        """What the registry knows of model or agent `id` (a resolved id), if anything."""
        return self.models.get(_normalise(id))

    def check_thinking(self, model_id: str, level: str | None) -> str | None:
        """One sentence on why `model_id` would refuse thinking `level`, or None if it is fine.

        None as well when the model's levels are unknown: upstream decides then.
        """
        info = self.info(model_id)
        if not level or info is None or info.thinking_levels is None:
            return None
        if level.strip().lower() in info.thinking_levels:
            return None
        if not info.thinking_levels:
            return f"{info.id} takes no thinking level."
        return (
            f"{info.id} does not accept thinking level {level.strip().lower()!r}; "
            f"use one of: {', '.join(info.thinking_levels)}."
        )

    def price(self, id: str, *, on: date | None = None) -> Price | None:
        """The rates of model or agent `id` in force on `on` (today by default), if known."""
        entry = self.prices.get(_normalise(id))
        if entry is None:
            return None
        return price_from(_normalise(id), dict(entry), on=on or date.today())

    def markdown_table(self) -> str:
        """The README's model table: current models and agents, then retired ids."""
        aliases: dict[str, list[str]] = {}
        for alias, target in self.aliases.items():
            aliases.setdefault(target, []).append(f"`{alias}`")
        lines = [
            "| Model | Aliases | Status | Thinking levels | USD per 1M tokens: input / output "
            "/ cached input |",
            "|---|---|---|---|---|",
        ]
        for id in (*self.current, *self.agents):
            info = self.info(id) or ModelInfo(id=id)
            status = (info.status or UNKNOWN) + (" agent" if id in self.agents else "")
            levels = UNKNOWN
            if info.thinking_levels is not None:
                levels = ", ".join(
                    f"{level} (default)" if level == info.default_thinking else level
                    for level in info.thinking_levels
                )
            entry = self.prices.get(id)
            lines.append(
                f"| `{id}` | {', '.join(aliases.get(id, [])) or '—'} | {status} | {levels or '—'} "
                f"| {UNKNOWN if entry is None else describe_rates(id, dict(entry))} |"
            )
        lines += ["", "| Retired id | Used instead |", "|---|---|"]
        lines += [f"| `{old}` | `{self._follow(old)[0]}` |" for old in self.deprecated]
        return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``--markdown``: print the README's model table from the packaged registry."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["--markdown"]:
        sys.stderr.write("usage: python -m gemini_interactions_mcp.core.registry --markdown\n")
        return 2
    sys.stdout.write(ModelRegistry.load().markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
