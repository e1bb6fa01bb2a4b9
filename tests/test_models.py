"""The model registry: aliases, retirements, pass-through, user files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gemini_interactions_mcp.core.registry import ModelRegistry, Resolution, packaged_registry_text


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.load()


def user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_registry_is_found_and_complete(registry: ModelRegistry) -> None:
    assert "default =" in packaged_registry_text()
    assert registry.default_model == "gemini-3-flash-preview"
    assert registry.default_agent == "deep-research-preview-04-2026"
    assert registry.agents == ("deep-research-preview-04-2026", "deep-research-max-preview-04-2026")
    for model in ("gemini-2.5-flash", "gemini-3.1-pro-preview", "gemini-3.8-flash"):
        assert model in registry.current


@pytest.mark.parametrize("name", [None, "", "   "])
def test_no_name_means_the_default_model(registry: ModelRegistry, name: str | None) -> None:
    assert registry.resolve(name) == Resolution(
        requested=name or "", id="gemini-3-flash-preview", is_agent=False, note=None
    )


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("flash", "gemini-3-flash-preview"),
        ("pro", "gemini-3.1-pro-preview"),
        ("flash-lite", "gemini-3.1-flash-lite"),
        ("flash-2.5", "gemini-2.5-flash"),
        ("pro-2.5", "gemini-2.5-pro"),
        ("flash-lite-2.5", "gemini-2.5-flash-lite"),
        ("flash-latest", "gemini-flash-latest"),
        (" Flash ", "gemini-3-flash-preview"),
    ],
)
def test_aliases_resolve_to_their_model_without_a_note(
    registry: ModelRegistry, alias: str, expected: str
) -> None:
    assert registry.resolve(alias) == Resolution(
        requested=alias, id=expected, is_agent=False, note=None
    )


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("deep-research", "deep-research-preview-04-2026"),
        ("deep-research-max", "deep-research-max-preview-04-2026"),
    ],
)
def test_research_aliases_resolve_to_agents(
    registry: ModelRegistry, alias: str, expected: str
) -> None:
    resolution = registry.resolve(alias)
    assert (resolution.id, resolution.is_agent) == (expected, True)


@pytest.mark.parametrize(
    ("retired", "replacement"),
    [
        ("gemini-2.0-flash", "gemini-3-flash-preview"),
        ("gemini-2.0-flash-lite-001", "gemini-3-flash-preview"),
        ("gemini-1.5-pro", "gemini-3-flash-preview"),
        ("gemini-1.5-flash-8b", "gemini-3-flash-preview"),
        ("gemini-3-pro-preview", "gemini-3.1-pro-preview"),
        ("gemini-2.5-pro-preview-03-25", "gemini-3.1-pro-preview"),
        ("gemini-2.5-pro-preview-05-06", "gemini-3.1-pro-preview"),
        ("gemini-2.5-pro-preview-06-05", "gemini-3.1-pro-preview"),
        ("gemini-3.1-flash-image-preview", "gemini-3.1-flash-image"),
        ("gemini-3-pro-image-preview", "gemini-3-pro-image"),
    ],
)
def test_deprecated_ids_are_replaced_with_a_note(
    registry: ModelRegistry, retired: str, replacement: str
) -> None:
    assert registry.resolve(retired) == Resolution(
        requested=retired,
        id=replacement,
        is_agent=False,
        note=f"{retired} is deprecated; used {replacement} instead",
    )


def test_deprecated_agent_is_replaced_by_its_successor(registry: ModelRegistry) -> None:
    resolution = registry.resolve_agent("deep-research-pro-preview-12-2025")
    assert resolution == Resolution(
        requested="deep-research-pro-preview-12-2025",
        id="deep-research-preview-04-2026",
        is_agent=True,
        note=(
            "deep-research-pro-preview-12-2025 is deprecated; "
            "used deep-research-preview-04-2026 instead"
        ),
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gemini-9-ultra", "gemini-9-ultra"),
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("  GEMINI-2.5-FLASH\n", "gemini-2.5-flash"),
        ("models/gemini-3-flash-preview", "gemini-3-flash-preview"),
        ("gemini-2.0", "gemini-2.0"),  # the glob needs the dash after the version
    ],
)
def test_other_ids_pass_through_unchanged(
    registry: ModelRegistry, name: str, expected: str
) -> None:
    assert registry.resolve(name) == Resolution(
        requested=name, id=expected, is_agent=False, note=None
    )


def test_resolve_agent_defaults_and_accepts_aliases_and_new_ids(registry: ModelRegistry) -> None:
    assert registry.resolve_agent("").id == "deep-research-preview-04-2026"
    assert registry.resolve_agent(None).id == "deep-research-preview-04-2026"
    assert registry.resolve_agent("DEEP-RESEARCH-MAX").id == "deep-research-max-preview-04-2026"
    future = registry.resolve_agent("deep-research-preview-09-2026")
    assert (future.id, future.is_agent, future.note) == (
        "deep-research-preview-09-2026",
        True,
        None,
    )


@pytest.mark.parametrize("name", ["flash", "gemini-2.5-pro", "gemini-1.5-pro"])
def test_resolve_agent_refuses_a_model(registry: ModelRegistry, name: str) -> None:
    with pytest.raises(ValueError, match="is a model, not an agent; use one of: deep-research"):
        registry.resolve_agent(name)


def test_choices_names_aliases_models_and_agents(registry: ModelRegistry) -> None:
    choices = registry.choices()
    assert choices.startswith("Use an alias (flash, pro, flash-lite")
    assert "gemini-3.1-pro-preview" in choices
    assert choices.endswith("for Deep Research: deep-research, deep-research-max.")


def test_a_user_file_is_merged_over_the_packaged_one(tmp_path: Path) -> None:
    path = user_file(
        tmp_path,
        """
        default = "Pro"
        current = ["gemini-2.5-flash", "gemini-9-flash"]
        agents = ["deep-research-preview-09-2026"]
        [aliases]
        flash = "gemini-3.8-flash"
        fast = "flash"
        deep-research = "deep-research-preview-09-2026"
        pro-latest = ""
        [deprecated]
        "gemini-3-flash-preview" = "gemini-3.8-flash"
        "gemini-1.5-pro-*" = "gemini-3.1-pro-preview"
        "gemini-3-pro-preview" = ""
        """,
    )
    registry = ModelRegistry.load(path)

    assert registry.resolve(None).id == "gemini-3.1-pro-preview"
    assert registry.resolve("flash").id == "gemini-3.8-flash"
    assert registry.resolve("fast").id == "gemini-3.8-flash"
    assert registry.resolve("pro").id == "gemini-3.1-pro-preview"  # packaged aliases stay
    assert registry.resolve("pro-latest").id == "pro-latest"  # removed
    assert registry.current.count("gemini-2.5-flash") == 1
    assert registry.current[-1] == "gemini-9-flash"
    assert registry.resolve_agent("deep-research") == Resolution(
        "deep-research", "deep-research-preview-09-2026", True, None
    )
    # A retired default follows its replacement and says so.
    assert registry.resolve("gemini-3-flash-preview").note == (
        "gemini-3-flash-preview is deprecated; used gemini-3.8-flash instead"
    )
    # The longer pattern wins over the packaged "gemini-1.5-*".
    assert registry.resolve("gemini-1.5-pro-002").id == "gemini-3.1-pro-preview"
    assert registry.resolve("gemini-1.5-flash").id == "gemini-3.8-flash"
    assert registry.resolve("gemini-3-pro-preview").id == "gemini-3-pro-preview"


def test_an_exact_deprecated_id_wins_over_a_pattern(tmp_path: Path) -> None:
    path = user_file(tmp_path, '[deprecated]\n"gemini-2.0-flash" = "gemini-3.5-flash"\n')
    registry = ModelRegistry.load(path)
    assert registry.resolve("gemini-2.0-flash").id == "gemini-3.5-flash"
    assert registry.resolve("gemini-2.0-flash-001").id == "gemini-3-flash-preview"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("default = ", "not valid TOML"),
        ("defualt = 'flash'", "unknown key(s) defualt"),
        ("default = 3", "'default' must be a non-empty string"),
        ("default_agent = ''", "'default_agent' must be a non-empty string"),
        ("current = 'gemini-2.5-flash'", "'current' must be a list of non-empty strings"),
        ("agents = ['']", "'agents' must be a list of non-empty strings"),
        ("aliases = ['flash']", "[aliases] must be a table"),
        ("[deprecated]\nold = 1", "[deprecated] must be a table"),
        ("[deprecated]\n'gemini-*-pro' = 'pro'", "bad name 'gemini-*-pro'"),
        ("[deprecated]\n'*' = 'pro'", "bad name"),
        ("[aliases]\n'fl*' = 'flash'", "bad name"),
        ("[aliases]\na = 'b'\nb = 'a'", "loop"),
    ],
)
def test_a_bad_user_file_is_a_value_error_naming_it(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = user_file(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(complaint)) as caught:
        ModelRegistry.load(path)
    assert str(path) in str(caught.value)


def test_a_missing_user_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read the model registry .*nothing\.toml"):
        ModelRegistry.load(tmp_path / "nothing.toml")


def test_a_packaged_file_without_defaults_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = "[aliases]\nflash = 'gemini-3-flash-preview'\n"
    monkeypatch.setattr(
        "gemini_interactions_mcp.core.registry.packaged_registry_text", lambda: bare
    )
    with pytest.raises(ValueError, match="'default' is missing"):
        ModelRegistry.load()


def test_a_user_file_that_is_not_utf8_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_bytes(b"default = '\xff'\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        ModelRegistry.load(path)
