"""The model registry: aliases, retirements, pass-through, model facts, prices, user files."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from gemini_interactions_mcp.core.pricing import Price, estimate_cost
from gemini_interactions_mcp.core.registry import (
    ModelInfo,
    ModelRegistry,
    Resolution,
    main,
    packaged_registry_text,
)

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.load()


def user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return path


def priced(registry: ModelRegistry, id: str, on: date = TODAY) -> Price:
    price = registry.price(id, on=on)
    assert price is not None
    return price


def test_packaged_registry_is_found_and_complete(registry: ModelRegistry) -> None:
    assert "default =" in packaged_registry_text()
    assert registry.default_model == "gemini-3.8-flash"
    assert registry.default_agent == "deep-research-preview-04-2026"
    assert registry.agents == ("deep-research-preview-04-2026", "deep-research-max-preview-04-2026")
    for model in ("gemini-3.8-flash", "gemini-4-carbon", "gemini-3.1-pro-preview"):
        assert model in registry.current
    for retired in ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-3.7-flash", "gemini-3.5-flash"):
        assert retired not in registry.current


def test_every_current_model_and_agent_has_facts_with_a_source_and_a_date(
    registry: ModelRegistry,
) -> None:
    for id in (*registry.current, *registry.agents):
        info = registry.info(id)
        assert info is not None, id
        assert info.source and info.source.startswith("https://"), id
        assert info.checked == TODAY, id
    for id in registry.prices:
        price = priced(registry, id)
        assert price.source and price.source.startswith("https://"), id
        assert price.checked == TODAY, id


def test_every_alias_and_retirement_ends_at_a_model_that_is_not_retired(
    registry: ModelRegistry,
) -> None:
    for name in (*registry.aliases, *registry.deprecated.values()):
        final = registry.resolve(name).id
        assert final not in registry.deprecated, name
        assert final not in registry.aliases, name


@pytest.mark.parametrize("name", [None, "", "   "])
def test_no_name_means_the_default_model(registry: ModelRegistry, name: str | None) -> None:
    assert registry.resolve(name) == Resolution(
        requested=name or "", id="gemini-3.8-flash", is_agent=False, note=None
    )


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("flash", "gemini-3.8-flash"),
        ("flash-3", "gemini-3-flash-preview"),
        ("pro", "gemini-3.1-pro-preview"),
        ("flash-lite", "gemini-3.5-flash-lite"),
        ("hydrogen", "gemini-4-hydrogen"),
        ("neon", "gemini-4-neon"),
        ("carbon", "gemini-4-carbon"),
        ("argon", "gemini-4-argon"),
        ("flash-3.8", "gemini-3.8-flash"),
        ("flash-3.6", "gemini-3.6-flash"),
        ("flash-lite-3.5", "gemini-3.5-flash-lite"),
        ("flash-lite-3.1", "gemini-3.1-flash-lite"),
        ("flash-lite-2.5", "gemini-2.5-flash-lite"),
        ("flash-latest", "gemini-flash-latest"),
        ("flash-lite-latest", "gemini-flash-lite-latest"),
        ("pro-latest", "gemini-pro-latest"),
        (" Flash ", "gemini-3.8-flash"),
    ],
)
def test_aliases_resolve_to_their_model_without_a_note(
    registry: ModelRegistry, alias: str, expected: str
) -> None:
    assert registry.resolve(alias) == Resolution(
        requested=alias, id=expected, is_agent=False, note=None
    )


@pytest.mark.parametrize(
    ("alias", "retired", "replacement"),
    [
        ("flash-2.5", "gemini-2.5-flash", "gemini-3.5-flash-lite"),
        ("pro-2.5", "gemini-2.5-pro", "gemini-3.8-flash"),
        ("flash-3.5", "gemini-3.5-flash", "gemini-3.6-flash"),
    ],
)
def test_an_alias_of_a_retired_model_says_what_was_used_instead(
    registry: ModelRegistry, alias: str, retired: str, replacement: str
) -> None:
    assert registry.resolve(alias) == Resolution(
        requested=alias,
        id=replacement,
        is_agent=False,
        note=f"{retired} is deprecated; used {replacement} instead",
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
        ("gemini-2.0-flash", "gemini-3.8-flash"),
        ("gemini-2.0-flash-lite-001", "gemini-3.8-flash"),
        ("gemini-1.5-pro", "gemini-3.8-flash"),
        ("gemini-1.5-flash-8b", "gemini-3.8-flash"),
        ("gemini-2.5-pro", "gemini-3.8-flash"),
        ("gemini-2.5-flash", "gemini-3.5-flash-lite"),
        ("gemini-3.7-flash", "gemini-3.8-flash"),
        ("gemini-3.5-flash", "gemini-3.6-flash"),
        ("gemini-3-pro-preview", "gemini-3.1-pro-preview"),
        ("gemini-3.1-flash-lite-preview", "gemini-3.1-flash-lite"),
        ("gemini-2.5-pro-preview-03-25", "gemini-3.1-pro-preview"),
        ("gemini-2.5-pro-preview-05-06", "gemini-3.1-pro-preview"),
        ("gemini-2.5-pro-preview-06-05", "gemini-3.1-pro-preview"),
        ("gemini-3.1-flash-image-preview", "gemini-3.1-flash-image"),
        ("gemini-3-pro-image-preview", "gemini-3-pro-image"),
        ("models/GEMINI-2.5-PRO", "gemini-3.8-flash"),
    ],
)
def test_deprecated_ids_are_replaced_with_a_note(
    registry: ModelRegistry, retired: str, replacement: str
) -> None:
    resolution = registry.resolve(retired)
    assert (resolution.id, resolution.is_agent) == (replacement, False)
    assert resolution.note == (
        f"{retired.lower().removeprefix('models/')} is deprecated; used {replacement} instead"
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
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
        ("  GEMINI-4-NEON\n", "gemini-4-neon"),
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


@pytest.mark.parametrize("name", ["flash", "gemini-2.5-pro", "gemini-1.5-pro", "carbon"])
def test_resolve_agent_refuses_a_model(registry: ModelRegistry, name: str) -> None:
    with pytest.raises(ValueError, match="is a model, not an agent; use one of: deep-research"):
        registry.resolve_agent(name)


def test_choices_names_aliases_models_and_agents(registry: ModelRegistry) -> None:
    choices = registry.choices()
    assert choices.startswith("Use an alias (flash, pro, flash-lite")
    assert "gemini-3.8-flash" in choices and "gemini-3-flash-preview" in choices
    assert choices.endswith("for Deep Research: deep-research, deep-research-max.")


def test_model_facts_come_from_the_registry(registry: ModelRegistry) -> None:
    assert registry.info("models/Gemini-3.8-Flash") == ModelInfo(
        id="gemini-3.8-flash",
        status="stable",
        thinking_levels=("low", "medium", "high"),
        default_thinking="medium",
        input_tokens=1_048_576,
        output_tokens=65_536,
        note=registry.models["gemini-3.8-flash"].note,
        source=registry.models["gemini-3.8-flash"].source,
        checked=TODAY,
    )
    hydrogen = registry.info("gemini-4-hydrogen")
    assert hydrogen is not None and hydrogen.thinking_levels == ("low", "medium", "high", "xhigh")
    assert hydrogen.default_thinking == "high"


def test_unconfirmed_model_facts_are_none(registry: ModelRegistry) -> None:
    gemma = registry.info("gemma-4-31b-it")
    assert gemma is not None
    assert (gemma.status, gemma.thinking_levels, gemma.input_tokens, gemma.output_tokens) == (
        None,
        None,
        None,
        None,
    )
    assert registry.info("gemini-9-ultra") is None


@pytest.mark.parametrize(
    ("model", "level", "problem"),
    [
        (
            "gemini-3.8-flash",
            "minimal",
            "gemini-3.8-flash does not accept thinking level 'minimal'; "
            "use one of: low, medium, high.",
        ),
        (
            "gemini-4-carbon",
            "XHIGH",
            "gemini-4-carbon does not accept thinking level 'xhigh'; "
            "use one of: low, medium, high.",
        ),
        ("gemini-4-hydrogen", "xhigh", None),
        ("gemini-3.5-flash-lite", " Minimal ", None),
        ("gemini-3.8-flash", None, None),
        ("gemini-3.1-pro-preview-customtools", "minimal", None),  # levels unknown
        ("gemini-9-ultra", "minimal", None),  # model unknown: upstream decides
        (
            "deep-research-preview-04-2026",
            "high",
            "deep-research-preview-04-2026 takes no thinking level.",
        ),
    ],
)
def test_thinking_levels_a_model_refuses_are_named_in_one_sentence(
    registry: ModelRegistry, model: str, level: str | None, problem: str | None
) -> None:
    assert registry.check_thinking(model, level) == problem


def test_prices_are_typed_and_unknown_rates_are_none(registry: ModelRegistry) -> None:
    flash = priced(registry, "gemini-3.8-flash")
    assert (flash.input, flash.output, flash.cached_input) == (0.75, 3.75, 0.075)
    assert (flash.thinking, flash.search_per_1000, flash.search_unit) == ("output", 14.0, "query")
    assert flash.until == date(2026, 12, 31)
    pro = priced(registry, "gemini-3.1-pro-preview")
    assert (pro.long_context_above, pro.input_long, pro.output_long) == (200_000, 4.0, 18.0)
    assert pro.cached_input is None and pro.cached_input_long is None
    research = priced(registry, "deep-research-preview-04-2026")
    assert (research.input, research.output, research.cached_input) == (None, None, None)
    assert research.note is not None and "standard Gemini list rates" in research.note
    assert registry.price("gemini-3.1-pro-preview-customtools") is None
    assert registry.price("gemini-9-ultra") is None


def test_a_scheduled_price_change_applies_from_its_first_day(registry: ModelRegistry) -> None:
    before = priced(registry, "gemini-3.8-flash", on=date(2026, 12, 31))
    after = priced(registry, "gemini-3.8-flash", on=date(2027, 1, 1))
    assert (before.input, before.output) == (0.75, 3.75)
    assert (after.input, after.output, after.cached_input) == (1.5, 7.5, None)
    assert (after.since, after.until, after.thinking) == (date(2027, 1, 1), None, "output")
    assert registry.price("gemini-4-carbon") is not None  # today by default


def test_a_turn_is_priced_with_cached_input_thinking_and_searches(
    registry: ModelRegistry,
) -> None:
    estimate = estimate_cost(
        priced(registry, "gemini-3.8-flash"),
        input_tokens=1_000,
        output_tokens=500,
        thought_tokens=200,
        cached_tokens=100,
        searches=2,
    )
    # 900 x 0.75 + 100 x 0.075 + (500 + 200) x 3.75 per 1M tokens, and 2 x 14 / 1000.
    assert estimate.usd == pytest.approx(0.0313075)
    assert estimate.complete
    assert estimate.basis == (
        "gemini-3.8-flash standard rates per 1M tokens: input $0.75, output $3.75, "
        "cached input $0.075, thinking billed as output, search $14.00 per 1,000 search "
        "queries (valid until 2026-12-31)."
    )


@pytest.mark.parametrize(
    ("model", "usd"),
    [
        ("gemini-4-hydrogen", (10_000 * 1.5 + 3_000 * 7.5) / 1e6),
        ("gemini-4-carbon", (10_000 * 4 + 3_000 * 20) / 1e6),
        ("gemini-3.5-flash-lite", (10_000 * 0.3 + 3_000 * 2.5) / 1e6),
        ("gemma-4-31b-it", 0.0),
    ],
)
def test_other_models_are_priced_at_their_own_rates(
    registry: ModelRegistry, model: str, usd: float
) -> None:
    estimate = estimate_cost(
        priced(registry, model), input_tokens=10_000, output_tokens=2_000, thought_tokens=1_000
    )
    assert estimate.usd == pytest.approx(usd)
    assert estimate.complete == (model != "gemma-4-31b-it")


def test_free_rates_leave_thinking_unknown_when_its_billing_is_unknown(
    registry: ModelRegistry,
) -> None:
    estimate = estimate_cost(
        priced(registry, "gemma-4-31b-it"), input_tokens=10, output_tokens=10, thought_tokens=10
    )
    assert estimate.usd == 0.0 and not estimate.complete
    assert estimate.basis.endswith("; unknown: thinking rate.")


def test_long_prompts_are_priced_at_the_long_context_tier(registry: ModelRegistry) -> None:
    pro = priced(registry, "gemini-3.1-pro-preview")
    at_limit = estimate_cost(pro, input_tokens=200_000, output_tokens=1_000, thought_tokens=0)
    above = estimate_cost(pro, input_tokens=200_001, output_tokens=1_000, thought_tokens=0)
    assert at_limit.usd == pytest.approx((200_000 * 2 + 1_000 * 12) / 1e6)
    assert above.usd == pytest.approx((200_001 * 4 + 1_000 * 18) / 1e6)
    assert above.basis.startswith(
        "gemini-3.1-pro-preview above 200,000 input tokens rates per 1M tokens: input $4.00"
    )


def test_unknown_rates_are_named_and_the_estimate_is_a_lower_bound(
    registry: ModelRegistry,
) -> None:
    estimate = estimate_cost(
        priced(registry, "gemini-3.1-pro-preview"),
        input_tokens=1_000,
        output_tokens=100,
        thought_tokens=0,
        cached_tokens=500,
    )
    assert estimate.usd == pytest.approx((500 * 2 + 100 * 12) / 1e6)
    assert not estimate.complete
    assert estimate.basis.endswith("; unknown: cached input rate.")
    research = estimate_cost(
        priced(registry, "deep-research-max-preview-04-2026"),
        input_tokens=50_000,
        output_tokens=8_000,
        thought_tokens=4_000,
        searches=30,
    )
    assert research.usd == 0.0 and not research.complete
    assert research.basis == (
        "deep-research-max-preview-04-2026 standard rates per 1M tokens: none; unknown: "
        "input rate, output rate, thinking rate, search charge."
    )


def test_searches_are_charged_per_query_or_once_per_grounded_prompt(
    registry: ModelRegistry,
) -> None:
    per_query = estimate_cost(
        priced(registry, "gemini-4-neon"),
        input_tokens=0,
        output_tokens=0,
        thought_tokens=0,
        searches=3,
    )
    per_prompt = estimate_cost(
        priced(registry, "gemini-2.5-flash-lite"),
        input_tokens=0,
        output_tokens=0,
        thought_tokens=0,
        searches=3,
    )
    assert per_query.usd == pytest.approx(3 * 14 / 1000)
    assert per_prompt.usd == pytest.approx(35 / 1000)
    assert "search $35.00 per 1,000 grounded prompts" in per_prompt.basis


def test_a_user_file_is_merged_over_the_packaged_one(tmp_path: Path) -> None:
    path = user_file(
        tmp_path,
        """
        default = "Pro"
        current = ["gemini-3.8-flash", "gemini-9-flash"]
        agents = ["deep-research-preview-09-2026"]
        [aliases]
        flash = "gemini-9-flash"
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
    assert registry.resolve("flash").id == "gemini-9-flash"
    assert registry.resolve("fast").id == "gemini-9-flash"
    assert registry.resolve("pro").id == "gemini-3.1-pro-preview"  # packaged aliases stay
    assert registry.resolve("pro-latest").id == "pro-latest"  # removed
    assert registry.current.count("gemini-3.8-flash") == 1
    assert registry.current[-1] == "gemini-9-flash"
    assert registry.resolve_agent("deep-research") == Resolution(
        "deep-research", "deep-research-preview-09-2026", True, None
    )
    # A retired model follows its replacement and says so.
    assert registry.resolve("gemini-3-flash-preview").note == (
        "gemini-3-flash-preview is deprecated; used gemini-3.8-flash instead"
    )
    # The longer pattern wins over the packaged "gemini-1.5-*", which now ends at 3.8 Flash.
    assert registry.resolve("gemini-1.5-pro-002").id == "gemini-3.1-pro-preview"
    assert registry.resolve("gemini-1.5-flash").id == "gemini-3.8-flash"
    assert registry.resolve("gemini-3-pro-preview").id == "gemini-3-pro-preview"


def test_a_user_file_adds_and_corrects_prices_and_notes_key_by_key(tmp_path: Path) -> None:
    path = user_file(
        tmp_path,
        """
        [models."gemini-3.8-flash"]
        note = "our contract"
        [models."gemini-9-flash"]
        thinking_levels = ["Low", "high"]
        default_thinking = "high"
        input_tokens = 2000000
        [prices."gemini-3.8-flash"]
        input = 0.5
        [prices."gemini-9-flash"]
        input = 1
        output = 2
        cached_input = "unknown"
        thinking = "output"
        """,
    )
    registry = ModelRegistry.load(path)

    flash = registry.info("gemini-3.8-flash")
    assert flash is not None and flash.note == "our contract"
    assert flash.thinking_levels == ("low", "medium", "high")  # kept from the packaged file
    price = priced(registry, "gemini-3.8-flash")
    assert (price.input, price.output, price.cached_input) == (0.5, 3.75, 0.075)
    assert registry.info("gemini-9-flash") == ModelInfo(
        id="gemini-9-flash",
        thinking_levels=("low", "high"),
        default_thinking="high",
        input_tokens=2_000_000,
    )
    assert registry.check_thinking("gemini-9-flash", "medium") == (
        "gemini-9-flash does not accept thinking level 'medium'; use one of: low, high."
    )
    estimate = estimate_cost(
        priced(registry, "gemini-9-flash"),
        input_tokens=1_000_000,
        output_tokens=0,
        thought_tokens=1_000_000,
    )
    assert estimate.usd == pytest.approx(3.0)
    assert estimate.complete


def test_an_exact_deprecated_id_wins_over_a_pattern(tmp_path: Path) -> None:
    path = user_file(tmp_path, '[deprecated]\n"gemini-2.0-flash" = "gemini-3.6-flash"\n')
    registry = ModelRegistry.load(path)
    assert registry.resolve("gemini-2.0-flash").id == "gemini-3.6-flash"
    assert registry.resolve("gemini-2.0-flash-001").id == "gemini-3.8-flash"


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
        ("models = 3", "[models] must be a table of model ids to tables"),
        ("[models]\nx = 3", '[models."x"] must be a table'),
        ("[models.x]\nthinking = ['low']", '[models."x"] has unknown key(s) thinking'),
        ("[models.x]\ninput_tokens = -1", '[models."x"] input_tokens must be a positive number'),
        ("[models.x]\noutput_tokens = true", '[models."x"] output_tokens must be a positive'),
        ("[models.x]\nthinking_levels = 'low'", '[models."x"] thinking_levels must be a list'),
        ("[models.x]\nstatus = ''", '[models."x"] status must be a non-empty string'),
        ("[models.x]\nchecked = '2026-12-02'", '[models."x"] checked must be a date'),
        (
            "[models.x]\nthinking_levels = ['low']\ndefault_thinking = 'high'",
            "[models.\"x\"] default_thinking 'high' is not in thinking_levels",
        ),
        ("prices = []", "[prices] must be a table of model ids to tables"),
        ("[prices]\nx = 'cheap'", '[prices."x"] must be a table'),
        ("[prices.x]\ninptu = 1", '[prices."x"] has unknown key(s) inptu'),
        ("[prices.x]\ninput = -1", '[prices."x"] input must be a number of USD'),
        ("[prices.x]\noutput = 'free'", '[prices."x"] output must be a number of USD'),
        ("[prices.x]\ncached_input = true", '[prices."x"] cached_input must be a number'),
        ("[prices.x]\nlong_context_above = 0", '[prices."x"] long_context_above must be'),
        ("[prices.x]\nthinking = 'input'", '[prices."x"] thinking must be "output" or "unknown"'),
        ("[prices.x]\nsearch_unit = 'call'", '[prices."x"] search_unit must be "query"'),
        ("[prices.x]\nuntil = 'soon'", '[prices."x"] until must be a date'),
        ("[prices.x]\nnote = 1", '[prices."x"] note must be a string'),
        ("[prices.x]\nnext = { input = 1 }", "[prices.\"x\"].next needs 'since'"),
        ("[prices.x]\nnext = 1", '[prices."x"].next must be a table'),
        (
            "[prices.x.next]\nsince = 2027-01-01\nnext = {}",
            '[prices."x"].next has unknown key(s) next',
        ),
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


def test_the_readme_model_table_is_the_generated_one(registry: ModelRegistry) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- models-table:start -->\n")[1].split("<!-- models-table:end -->")[0]
    assert table == registry.markdown_table(), (
        "README.md is out of date: paste the output of "
        "`.venv/bin/python -m gemini_interactions_mcp.core.registry --markdown`"
    )


def test_the_table_lists_every_current_model_agent_and_retirement(
    registry: ModelRegistry,
) -> None:
    table = registry.markdown_table()
    for id in (*registry.current, *registry.agents, *registry.deprecated):
        assert f"| `{id}` |" in table
    assert (
        "| `gemini-3.8-flash` | `flash`, `flash-3.8` | stable | low, medium (default), high "
        "| 0.75 / 3.75 / 0.075 until 2026-12-31, from 2027-01-01 1.50 / 7.50 / unknown |"
    ) in table
    assert "| 4.00 / 20.00 / 0.20 from 2026-12-01 |" in table
    assert "| `gemini-2.5-pro` | `gemini-3.8-flash` |" in table


def test_the_module_prints_the_table_on_request(
    registry: ModelRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == registry.markdown_table()
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_the_markdown_command_runs_as_a_module(registry: ModelRegistry) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "gemini_interactions_mcp.core.registry", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == registry.markdown_table()
