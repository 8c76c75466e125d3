"""The pure routing function: rule matching, order, TLP enforcement, rule validation."""

from __future__ import annotations

import pytest

from app.errors import Forbidden
from app.services.routing import (
    EXPLICIT_RULE,
    RoutedTo,
    RoutingFacts,
    RuleSpec,
    ensure_may_reshare,
    load_default_rules,
    region_matches,
    route,
    rule_matches,
    rule_problems,
)

AGENCIES = {"IMI", "POL", "BP3MI", "DISNAKER", "PEMKOT", "SRC", "DINSOS"}


def facts(**overrides: object) -> RoutingFacts:
    values: dict[str, object] = {
        "source_agency_code": "SRC",
        "case_type": "TPPO",
        "tlp": "AMBER",
        "region_code": "14.72",
    }
    values.update(overrides)
    return RoutingFacts(**values)  # type: ignore[arg-type]


def test_empty_fields_match_anything_and_each_field_must_match() -> None:
    anything = RuleSpec(name="all", recipients=("POL",))
    assert rule_matches(anything, facts())
    workers = RuleSpec(
        name="w",
        recipients=("BP3MI",),
        modus_operandi=frozenset({"NONPROCEDURAL_MIGRANT_WORKER", "HIGH_SALARY_JOB_OFFER"}),
        destination_countries=frozenset({"MYS"}),
    )
    assert rule_matches(
        workers,
        facts(
            modus_codes=frozenset({"HIGH_SALARY_JOB_OFFER"}),
            destination_countries=frozenset({"MYS", "KHM"}),
        ),
    )
    # one field matches, the other does not: no match
    assert not rule_matches(workers, facts(modus_codes=frozenset({"HIGH_SALARY_JOB_OFFER"})))


def test_region_prefix_matches_by_segment() -> None:
    assert region_matches("14.72", "14")
    assert region_matches("14.72.01", "14.72")
    assert region_matches("14", "14")
    assert not region_matches("14.72", "14.7")
    assert not region_matches("141", "14")
    assert not region_matches(None, "14")
    rule = RuleSpec(name="riau", recipients=("PEMKOT",), region_prefixes=("14",))
    assert rule_matches(rule, facts(region_code="14.72"))
    assert not rule_matches(rule, facts(region_code="21.71"))
    assert not rule_matches(rule, facts(region_code=None))


def test_foreign_nationals_flag() -> None:
    rule = RuleSpec(name="f", recipients=("IMI",), foreign_nationals=True)
    assert rule_matches(rule, facts(has_foreign_nationals=True))
    assert not rule_matches(rule, facts(has_foreign_nationals=False))
    none = RuleSpec(name="n", recipients=("IMI",), foreign_nationals=False)
    assert rule_matches(none, facts(has_foreign_nationals=False))
    assert not rule_matches(none, facts(has_foreign_nationals=True))


def test_inactive_rule_never_matches() -> None:
    assert not rule_matches(RuleSpec(name="x", recipients=("POL",), active=False), facts())


def test_route_keeps_rule_order_and_names_the_first_rule_per_agency() -> None:
    rules = [
        RuleSpec(name="police", recipients=("POL",)),
        RuleSpec(
            name="labour",
            recipients=("BP3MI", "POL", "DISNAKER"),
            exploitation_types=frozenset({"FORCED_LABOUR"}),
        ),
    ]
    routed = route(facts(exploitation_types=frozenset({"FORCED_LABOUR"})), rules, AGENCIES)
    assert routed == [
        RoutedTo("POL", "police"),
        RoutedTo("BP3MI", "labour"),
        RoutedTo("DISNAKER", "labour"),
    ]


def test_source_never_receives_its_own_report() -> None:
    rules = [RuleSpec(name="all", recipients=("SRC", "POL"))]
    routed = route(facts(explicit_recipients=("SRC",)), rules, AGENCIES)
    assert [r.agency_code for r in routed] == ["POL"]


def test_explicit_recipients_come_first_with_rule_explicit() -> None:
    rules = [RuleSpec(name="all", recipients=("POL", "IMI"))]
    routed = route(facts(explicit_recipients=("IMI",)), rules, AGENCIES)
    assert routed == [RoutedTo("IMI", EXPLICIT_RULE), RoutedTo("POL", "all")]


def test_unknown_or_inactive_agencies_are_skipped() -> None:
    rules = [RuleSpec(name="all", recipients=("GONE", "POL"))]
    routed = route(facts(explicit_recipients=("NOBODY",)), rules, AGENCIES)
    assert routed == [RoutedTo("POL", "all")]


def test_red_goes_only_to_explicit_recipients() -> None:
    rules = [RuleSpec(name="all", recipients=("POL", "IMI"), tlps=frozenset({"RED", "AMBER"}))]
    assert route(facts(tlp="RED"), rules, AGENCIES) == []
    assert route(facts(tlp="RED", explicit_recipients=("IMI",)), rules, AGENCIES) == [
        RoutedTo("IMI", EXPLICIT_RULE)
    ]


def test_amber_strict_needs_a_rule_that_lists_it() -> None:
    any_tlp = RuleSpec(name="any", recipients=("POL",))
    strict = RuleSpec(name="strict", recipients=("IMI",), tlps=frozenset({"AMBER", "AMBER_STRICT"}))
    routed = route(
        facts(tlp="AMBER_STRICT", explicit_recipients=("DINSOS",)), [any_tlp, strict], AGENCIES
    )
    assert routed == [RoutedTo("DINSOS", EXPLICIT_RULE), RoutedTo("IMI", "strict")]
    # the same rules on an AMBER report: the "any" rule applies
    assert [r.agency_code for r in route(facts(tlp="AMBER"), [any_tlp, strict], AGENCIES)] == [
        "POL",
        "IMI",
    ]


def test_rule_restricted_to_green_skips_amber() -> None:
    rule = RuleSpec(name="g", recipients=("POL",), tlps=frozenset({"CLEAR", "GREEN"}))
    assert route(facts(tlp="AMBER"), [rule], AGENCIES) == []
    assert route(facts(tlp="GREEN"), [rule], AGENCIES) == [RoutedTo("POL", "g")]


def test_red_and_strict_cannot_be_reshared() -> None:
    for tlp in ("RED", "AMBER_STRICT"):
        with pytest.raises(Forbidden):
            ensure_may_reshare(tlp)
    ensure_may_reshare("AMBER")


def test_rule_problems_name_the_field() -> None:
    rule = RuleSpec(
        name="bad",
        recipients=("POL", "NOPE"),
        tlps=frozenset({"RED"}),
        region_prefixes=("14", "Riau"),
    )
    problems = {p.pointer: p.code for p in rule_problems(rule, AGENCIES)}
    assert problems == {
        "/recipients/1": "unknown_agency",
        "/tlps/0": "never_matches",
        "/region_prefixes/1": "never_matches",
    }
    assert rule_problems(RuleSpec(name="ok", recipients=("POL",)), AGENCIES) == []
    empty = rule_problems(RuleSpec(name="e", recipients=()), AGENCIES)
    assert [p.pointer for p in empty] == ["/recipients"]


def test_default_rule_data_is_well_formed() -> None:
    rules = load_default_rules()
    names = [r["name"] for r in rules]
    assert len(names) == len(set(names))
    kinds = {k for r in rules for k in r["recipient_kinds"]}
    # the city TIMPORA's nine kinds of member are all served by some rule
    assert kinds == {
        "IMMIGRATION",
        "POLICE",
        "MIGRANT_WORKER_PROTECTION",
        "MANPOWER",
        "PROSECUTOR",
        "NAVY",
        "PORT_AUTHORITY",
        "SOCIAL_SERVICES",
        "LOCAL_GOVERNMENT",
    }
    for r in rules:
        assert "RED" not in r.get("tlps", [])
