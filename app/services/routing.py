"""Routing: which agencies receive a report, and why (DESIGN.md §6).

``route`` is pure: it takes the report's routing facts, the rules in order and the active
agencies, and answers the recipients each with the rule that caused it. TLP (Traffic Light
Protocol 2.0) is enforced here:

- ``RED``: only the sender's explicit ``recipients``; rules never add anyone.
- ``AMBER_STRICT`` ("the recipient organisation only"): explicit recipients, plus agencies
  named by a rule that lists ``AMBER_STRICT`` in its ``tlps`` on purpose. A rule that leaves
  ``tlps`` empty ("any") covers ``CLEAR``, ``GREEN`` and ``AMBER`` only, so a strict report never
  reaches an agency through a rule written without strict reports in mind.
- The source agency never receives its own report; inactive or unknown agencies never do.
- A recipient may not re-share a ``RED`` (or ``AMBER_STRICT``) report: :func:`ensure_may_reshare`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from app.models.routing import RoutingRule
from app.repositories import routing as repo
from app.vocab import REGIONS, code_list

TLP_LEVELS = ("CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED")
#: The TLP levels a rule with an empty ``tlps`` ("any") covers.
TLP_ANY = frozenset({"CLEAR", "GREEN", "AMBER"})
CASE_TYPES = ("TPPO", "TPPM", "TPPO_TPPM", "UNDETERMINED")
EXPLICIT_RULE = "explicit"
REGION_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


@dataclass(frozen=True)
class RoutingFacts:
    """What routing needs to know of a report, and nothing more."""

    source_agency_code: str
    case_type: str
    tlp: str
    modus_codes: frozenset[str] = frozenset()
    exploitation_types: frozenset[str] = frozenset()
    region_code: str | None = None
    has_foreign_nationals: bool = False
    document_types: frozenset[str] = frozenset()
    document_statuses: frozenset[str] = frozenset()
    destination_countries: frozenset[str] = frozenset()
    #: Agency codes the sender addressed explicitly, in the sender's order.
    explicit_recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    """A routing rule as plain data (what ``route`` evaluates)."""

    name: str
    recipients: tuple[str, ...]
    case_types: frozenset[str] = frozenset()
    modus_operandi: frozenset[str] = frozenset()
    exploitation_types: frozenset[str] = frozenset()
    region_prefixes: tuple[str, ...] = ()
    foreign_nationals: bool | None = None
    document_types: frozenset[str] = frozenset()
    document_statuses: frozenset[str] = frozenset()
    destination_countries: frozenset[str] = frozenset()
    tlps: frozenset[str] = frozenset()
    active: bool = True

    @classmethod
    def of(cls, rule: RoutingRule | Row[*tuple[Any, ...]]) -> RuleSpec:
        """A stored rule's spec, from its object or from a row of its routing fields."""
        return cls(
            name=rule.name,
            recipients=tuple(rule.recipients),
            case_types=frozenset(rule.case_types),
            modus_operandi=frozenset(rule.modus_operandi),
            exploitation_types=frozenset(rule.exploitation_types),
            region_prefixes=tuple(rule.region_prefixes),
            foreign_nationals=rule.foreign_nationals,
            document_types=frozenset(rule.document_types),
            document_statuses=frozenset(rule.document_statuses),
            destination_countries=frozenset(rule.destination_countries),
            tlps=frozenset(rule.tlps),
            active=rule.active,
        )


@dataclass(frozen=True)
class RoutedTo:
    agency_code: str
    #: The rule's name, or ``explicit`` for a recipient the sender named.
    rule: str


def region_matches(region_code: str | None, prefix: str) -> bool:
    """``14`` matches ``14`` and ``14.72`` but not ``141``; segment-wise, not character-wise."""
    if region_code is None:
        return False
    return region_code == prefix or region_code.startswith(prefix + ".")


def _overlaps(wanted: frozenset[str], present: frozenset[str]) -> bool:
    return not wanted or bool(wanted & present)


def rule_matches(rule: RuleSpec, facts: RoutingFacts) -> bool:
    """Whether every non-empty field of ``rule`` matches ``facts`` (TLP included)."""
    if not rule.active or facts.tlp == "RED":
        return False
    allowed_tlps = rule.tlps or TLP_ANY
    if facts.tlp not in allowed_tlps:
        return False
    if rule.case_types and facts.case_type not in rule.case_types:
        return False
    if rule.region_prefixes and not any(
        region_matches(facts.region_code, p) for p in rule.region_prefixes
    ):
        return False
    if rule.foreign_nationals is not None and rule.foreign_nationals != facts.has_foreign_nationals:
        return False
    return (
        _overlaps(rule.modus_operandi, facts.modus_codes)
        and _overlaps(rule.exploitation_types, facts.exploitation_types)
        and _overlaps(rule.document_types, facts.document_types)
        and _overlaps(rule.document_statuses, facts.document_statuses)
        and _overlaps(rule.destination_countries, facts.destination_countries)
    )


def route(
    facts: RoutingFacts, rules: Sequence[RuleSpec], agencies: Collection[str]
) -> list[RoutedTo]:
    """The recipients of a report: explicit ones first, then by rule order; each agency once.

    ``agencies`` holds the codes of the active agencies; anyone else is skipped.
    """
    routed: list[RoutedTo] = []
    seen = {facts.source_agency_code}

    def add(code: str, rule: str) -> None:
        if code in seen or code not in agencies:
            return
        seen.add(code)
        routed.append(RoutedTo(agency_code=code, rule=rule))

    for code in facts.explicit_recipients:
        add(code, EXPLICIT_RULE)
    for rule in rules:
        if rule_matches(rule, facts):
            for code in rule.recipients:
                add(code, rule.name)
    return routed


def ensure_may_reshare(tlp: str) -> None:
    """Refuse re-sharing a report whose label forbids it (``RED``, ``AMBER_STRICT``)."""
    if tlp in {"RED", "AMBER_STRICT"}:
        raise Forbidden(detail=f"A TLP:{tlp} report may not be shared further by its recipients")


def rule_problems(
    rule: RuleSpec, known_agencies: Collection[str], pointer: str = ""
) -> list[FieldProblem]:
    """Why ``rule`` is unusable: unknown recipients, or fields that make it never match."""
    problems: list[FieldProblem] = []
    if not rule.recipients:
        problems.append(
            FieldProblem(f"{pointer}/recipients", "Name at least one recipient agency", "empty")
        )
    for i, code in enumerate(rule.recipients):
        if code not in known_agencies:
            problems.append(
                FieldProblem(
                    f"{pointer}/recipients/{i}",
                    f"No agency has the code {code!r}",
                    "unknown_agency",
                )
            )
    for i, tlp in enumerate(sorted(rule.tlps)):
        if tlp == "RED":
            problems.append(
                FieldProblem(
                    f"{pointer}/tlps/{i}",
                    "TLP:RED reports go only to the sender's explicit recipients; "
                    "no rule can match them",
                    "never_matches",
                )
            )
    regions = code_list(REGIONS)
    for i, prefix in enumerate(rule.region_prefixes):
        # Below the regency/city level the list is not kept: its regency part must be known.
        if not REGION_CODE.match(prefix) or prefix[:5] not in regions:
            problems.append(
                FieldProblem(
                    f"{pointer}/region_prefixes/{i}",
                    f"{prefix!r} is not a Kemendagri region code (such as 14 or 14.72); "
                    "the known ones are listed at GET /v1/vocab/regions",
                    "never_matches",
                )
            )
    return problems


#: Fields of a rule holding codes of the code list of the same name.
_CODED_FIELDS = ("modus_operandi", "exploitation_types", "document_types", "document_statuses")


def unknown_codes(rule: RuleInput, pointer: str = "") -> list[FieldProblem]:
    """Codes a rule names that no report can carry: the rule would never match on them."""
    problems: list[FieldProblem] = []
    for name in _CODED_FIELDS:
        known = code_list(name)
        for i, code in enumerate(getattr(rule, name)):
            if code not in known:
                problems.append(
                    FieldProblem(
                        f"{pointer}/{name}/{i}",
                        f"{code!r} is not a code of GET /v1/vocab/{name}; no report carries it",
                        "never_matches",
                    )
                )
    return problems


# --- use cases -----------------------------------------------------------------------------


@dataclass
class RuleInput:
    """A rule as an admin writes it (fields of the request body)."""

    name: str
    recipients: list[str]
    description: str | None = None
    active: bool = True
    case_types: list[str] = field(default_factory=list)
    modus_operandi: list[str] = field(default_factory=list)
    exploitation_types: list[str] = field(default_factory=list)
    region_prefixes: list[str] = field(default_factory=list)
    foreign_nationals: bool | None = None
    document_types: list[str] = field(default_factory=list)
    document_statuses: list[str] = field(default_factory=list)
    destination_countries: list[str] = field(default_factory=list)
    tlps: list[str] = field(default_factory=list)

    def spec(self) -> RuleSpec:
        return RuleSpec(
            name=self.name,
            recipients=tuple(self.recipients),
            case_types=frozenset(self.case_types),
            modus_operandi=frozenset(self.modus_operandi),
            exploitation_types=frozenset(self.exploitation_types),
            region_prefixes=tuple(self.region_prefixes),
            foreign_nationals=self.foreign_nationals,
            document_types=frozenset(self.document_types),
            document_statuses=frozenset(self.document_statuses),
            destination_countries=frozenset(self.destination_countries),
            tlps=frozenset(self.tlps),
            active=self.active,
        )

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "active": self.active,
            "case_types": list(self.case_types),
            "modus_operandi": list(self.modus_operandi),
            "exploitation_types": list(self.exploitation_types),
            "region_prefixes": list(self.region_prefixes),
            "foreign_nationals": self.foreign_nationals,
            "document_types": list(self.document_types),
            "document_statuses": list(self.document_statuses),
            "destination_countries": list(self.destination_countries),
            "tlps": list(self.tlps),
            "recipients": list(self.recipients),
        }


async def _check(session: AsyncSession, rules: Iterable[tuple[str, RuleInput]]) -> None:
    known = set(await repo.agency_codes(session))
    problems: list[FieldProblem] = []
    for pointer, rule in rules:
        problems.extend(rule_problems(rule.spec(), known, pointer))
        problems.extend(unknown_codes(rule, pointer))
    if problems:
        raise InvalidInput(
            detail="The routing rule cannot be used: " + "; ".join(p.detail for p in problems),
            errors=problems,
        )


async def list_rules(session: AsyncSession) -> list[RoutingRule]:
    """Every rule, in evaluation order."""
    return await repo.list_rules(session)


async def get_rule(session: AsyncSession, rule_id: uuid.UUID) -> RoutingRule:
    rule = await repo.get_rule(session, rule_id)
    if rule is None:
        raise NotFound(detail=f"No routing rule {rule_id}")
    return rule


async def create_rule(
    session: AsyncSession, data: RuleInput, position: int | None = None
) -> RoutingRule:
    """Add a rule (last, unless ``position`` is given)."""
    await _check(session, [("", data)])
    if await repo.get_rule_by_name(session, data.name) is not None:
        raise Conflict(
            detail=f"A routing rule named {data.name!r} exists",
            errors=[FieldProblem("/name", "already used", "duplicate")],
        )
    if position is None:
        position = await repo.next_position(session)
    rule = RoutingRule(position=position, **data.values())
    session.add(rule)
    await session.flush()
    return rule


async def update_rule(session: AsyncSession, rule_id: uuid.UUID, data: RuleInput) -> RoutingRule:
    """Replace a rule's fields (its position is kept)."""
    rule = await get_rule(session, rule_id)
    await _check(session, [("", data)])
    other = await repo.get_rule_by_name(session, data.name)
    if other is not None and other.id != rule.id:
        raise Conflict(
            detail=f"A routing rule named {data.name!r} exists",
            errors=[FieldProblem("/name", "already used", "duplicate")],
        )
    for key, value in data.values().items():
        setattr(rule, key, value)
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, rule_id: uuid.UUID) -> None:
    rule = await get_rule(session, rule_id)
    await session.delete(rule)
    await session.flush()


async def reorder_rules(session: AsyncSession, rule_ids: Sequence[uuid.UUID]) -> list[RoutingRule]:
    """Set the evaluation order; ``rule_ids`` must name every rule exactly once."""
    rules = await repo.list_rules(session)
    by_id = {r.id: r for r in rules}
    if len(rule_ids) != len(set(rule_ids)) or set(rule_ids) != set(by_id):
        missing = [str(i) for i in by_id if i not in set(rule_ids)]
        unknown = [str(i) for i in rule_ids if i not in by_id]
        raise InvalidInput(
            detail="rule_ids must list every routing rule exactly once"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else ""),
            errors=[FieldProblem("/rule_ids", "not a permutation of the stored rules", "invalid")],
        )
    for position, rule_id in enumerate(rule_ids, start=1):
        by_id[rule_id].position = position * 10
    await session.flush()
    return await repo.list_rules(session)


async def active_agency_codes(session: AsyncSession) -> set[str]:
    """The agencies routing may deliver to; a rule's other recipients are skipped."""
    return set(await repo.active_agency_codes(session))


def rule_input(rule: RoutingRule) -> RuleInput:
    """A stored rule as an admin writes it: what an edit form starts from."""
    return RuleInput(
        name=rule.name,
        description=rule.description,
        active=rule.active,
        case_types=list(rule.case_types),
        modus_operandi=list(rule.modus_operandi),
        exploitation_types=list(rule.exploitation_types),
        region_prefixes=list(rule.region_prefixes),
        foreign_nationals=rule.foreign_nationals,
        document_types=list(rule.document_types),
        document_statuses=list(rule.document_statuses),
        destination_countries=list(rule.destination_countries),
        tlps=list(rule.tlps),
        recipients=list(rule.recipients),
    )


async def set_rule_active(
    session: AsyncSession, rule_id: uuid.UUID, *, active: bool
) -> RoutingRule:
    """Switch a rule on or off; an inactive rule stays in its place but routes nothing."""
    rule = await get_rule(session, rule_id)
    rule.active = active
    await session.flush()
    return rule


async def move_rule(session: AsyncSession, rule_id: uuid.UUID, step: int) -> list[RoutingRule]:
    """Move one rule ``step`` places earlier (negative) or later (positive) in the order; at
    either end it stays where it is. The whole order is renumbered, as ``reorder_rules`` does."""
    rules = await repo.list_rules(session)
    ids = [r.id for r in rules]
    if rule_id not in ids:
        raise NotFound(detail=f"No routing rule {rule_id}")
    here = ids.index(rule_id)
    there = min(max(here + step, 0), len(ids) - 1)
    ids.insert(there, ids.pop(here))
    return await reorder_rules(session, ids)


async def dry_run_draft(
    session: AsyncSession,
    facts: RoutingFacts,
    draft: RuleInput,
    replacing: uuid.UUID | None = None,
) -> list[RoutedTo]:
    """Route ``facts`` with the stored rules and ``draft`` in the place of rule ``replacing``
    (last when it is a new rule): an edit tried before it is saved."""
    await _check(session, [("", draft)])  # its problems point into the draft, as on saving
    stored = await repo.list_rules(session)
    if replacing is not None and replacing not in {r.id for r in stored}:
        raise NotFound(detail=f"No routing rule {replacing}")
    rules = [draft if r.id == replacing else rule_input(r) for r in stored]
    if replacing is None:
        rules.append(draft)
    return await dry_run(session, facts, rules)


async def dry_run(
    session: AsyncSession, facts: RoutingFacts, rules: Sequence[RuleInput] | None = None
) -> list[RoutedTo]:
    """Route ``facts`` with ``rules`` (unsaved, in the given order) or the stored rules."""
    if rules is None:
        specs = [RuleSpec.of(r) for r in await repo.list_rules(session)]
    else:
        await _check(session, [(f"/rules/{i}", r) for i, r in enumerate(rules)])
        specs = [r.spec() for r in rules]
    return route(facts, specs, set(await repo.active_agency_codes(session)))


def explicit_recipient_problems(
    recipients: Sequence[str], source_code: str, active_codes: Collection[str]
) -> list[FieldProblem]:
    """Why each named recipient cannot receive the report (``/recipients/N``).

    Routing skips unknown, deactivated and self-addressed recipients; accepting them silently
    would let a typo (``POLRES-DUMAl``) leave a TLP:RED report with nobody while its sender
    believes it was sent, so a named recipient must be an active agency other than the sender.
    """
    problems: list[FieldProblem] = []
    for i, code in enumerate(recipients):
        if code == source_code:
            problems.append(
                FieldProblem(
                    f"/recipients/{i}",
                    f"{code} is the sending agency; name the agencies that should receive it",
                    "recipient_is_sender",
                )
            )
        elif code not in active_codes:
            problems.append(
                FieldProblem(
                    f"/recipients/{i}",
                    f"No active agency has the code {code}",
                    "recipient_unknown",
                )
            )
    return problems


async def check_explicit_recipients(
    session: AsyncSession, recipients: Sequence[str], source_code: str
) -> None:
    """422 unless every named recipient is an active agency other than the sender."""
    if not recipients:
        return
    problems = explicit_recipient_problems(
        recipients, source_code, set(await repo.active_agency_codes(session))
    )
    if problems:
        raise InvalidInput(
            detail="Every agency in recipients must be an active agency other than the sender",
            errors=problems,
        )


#: ``session.info`` key of the rules and agencies a shared transaction read once (``share_rules``).
_SHARED_RULES = "sinergi.routing_rules"


def share_rules(session: AsyncSession) -> None:
    """Let the reports routed in this transaction (a group-commit batch) share one reading of
    the rules and the active agencies, instead of two queries each."""
    session.info[_SHARED_RULES] = None


@dataclass(frozen=True)
class _Read:
    """The rules (as specs, in order) and the active agencies (code → id) routing read."""

    specs: list[RuleSpec]
    ids: dict[str, uuid.UUID]


class _HeldRules:
    """The process's last reading of the rules and agencies, by the stamp of the rows it was
    read from (``repositories.reports.ROUTING_STAMP``): an admin's change, in this process or
    another, changes the stamp, and the next report routed reads them again."""

    stamp: str | None = None
    read: _Read | None = None


_held = _HeldRules()


async def _read_rules(session: AsyncSession) -> _Read:
    specs = [RuleSpec.of(r) for r in await repo.rule_fields(session)]
    return _Read(specs, await repo.active_agency_ids(session))


async def route_report_to(
    session: AsyncSession, facts: RoutingFacts, *, stamp: str | None = None
) -> list[tuple[RoutedTo, uuid.UUID]]:
    """Route a report with the stored rules to the active agencies (for ingest), with each
    chosen agency's id.

    ``stamp``: the fingerprint of the rules' and agencies' rows this transaction saw (sent with
    the report's claim): when it is the one of the process's last reading, routing uses that
    reading and sends nothing. Otherwise two queries, rules and agencies (once per transaction
    that shares them, ``share_rules``)."""
    read = _held.read if stamp is not None and stamp == _held.stamp else None
    if read is None:
        shared = _SHARED_RULES in session.info
        read = session.info.get(_SHARED_RULES)
        if read is None:
            read = await _read_rules(session)
            if shared:
                session.info[_SHARED_RULES] = read
            # Held only when read after the stamp was taken: a reading older than its stamp
            # could miss the change that made it.
            if stamp is not None:
                _held.stamp, _held.read = stamp, read
    ids = read.ids
    return [(target, ids[target.agency_code]) for target in route(facts, read.specs, ids)]


DEFAULT_RULES_RESOURCE = "default_rules.json"


def load_default_rules() -> list[dict[str, Any]]:
    """The seeded city-TIMPORA rule set (``app/vocab/routing/default_rules.json``)."""
    text = (
        resources.files("app.vocab").joinpath("routing", DEFAULT_RULES_RESOURCE).read_text("utf-8")
    )
    rules: list[dict[str, Any]] = json.loads(text)["rules"]
    return rules


DefaultRuleOutcome = Literal["created", "would_create", "exists", "no_recipient"]


@dataclass(frozen=True)
class DefaultRulePlan:
    """What loading one default rule does (or would do, in a dry run)."""

    name: str
    description: str | None
    recipients: tuple[str, ...]
    outcome: DefaultRuleOutcome
    """``created`` (``would_create`` in a dry run), ``exists`` (a rule of that name is stored)
    or ``no_recipient`` (no active agency of the rule's kinds serves the region)."""


async def load_default_rules_into(
    session: AsyncSession, *, region_code: str | None = None, dry_run: bool = False
) -> list[DefaultRulePlan]:
    """Load the default city-TIMPORA rules, resolving recipient *kinds* to agencies.

    Each rule in the data names ``recipient_kinds`` (``IMMIGRATION``, ``POLICE``, …). They become
    the active agencies of those kinds, restricted to ``region_code`` when given (an agency
    matches when its region is that region, inside it, or a parent of it — a province office
    serves a city). A rule marked ``"local": true`` also gets ``region_prefixes=[region_code]``.
    Rules already present (by name) and rules no agency can receive are skipped; a dry run
    creates nothing and says what it would create.
    """
    agencies = await repo.active_agencies(session)
    plan: list[DefaultRulePlan] = []
    for item in load_default_rules():
        kinds = item["recipient_kinds"]
        recipients = [
            a.code
            for kind in kinds
            for a in sorted(agencies, key=lambda a: a.code)
            if a.kind == kind
            and (
                region_code is None
                or a.region_code is None
                or region_matches(region_code, a.region_code)
                or region_matches(a.region_code, region_code)
            )
        ]
        description = item.get("description")
        outcome: DefaultRuleOutcome
        if await repo.get_rule_by_name(session, item["name"]) is not None:
            outcome = "exists"
        elif not recipients:
            outcome = "no_recipient"
        else:
            outcome = "would_create" if dry_run else "created"
        plan.append(DefaultRulePlan(item["name"], description, tuple(recipients), outcome))
        if outcome != "created":
            continue
        data = RuleInput(
            name=item["name"],
            description=description,
            recipients=recipients,
            case_types=item.get("case_types", []),
            modus_operandi=item.get("modus_operandi", []),
            exploitation_types=item.get("exploitation_types", []),
            foreign_nationals=item.get("foreign_nationals"),
            document_types=item.get("document_types", []),
            document_statuses=item.get("document_statuses", []),
            destination_countries=item.get("destination_countries", []),
            tlps=item.get("tlps", []),
            region_prefixes=[region_code] if item.get("local") and region_code else [],
        )
        await create_rule(session, data)
    return plan


async def seed_default_rules(
    session: AsyncSession, *, region_code: str | None = None
) -> list[DefaultRulePlan]:
    """The default rules the demo seeds: those created by :func:`load_default_rules_into`."""
    plan = await load_default_rules_into(session, region_code=region_code)
    return [p for p in plan if p.outcome == "created"]
