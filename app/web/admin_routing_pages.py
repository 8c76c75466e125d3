"""Routing rules in the admin console (issue 19): the ordered list in words, create and edit,
switch on and off, move up and down, delete, try a report against the rules, and load the
default TIMPORA rule set for a region.

The pages call the same services as ``/v1/admin/routing-rules`` with the same role rule: the
API needs the admin scope, so only a SYSTEM_ADMIN opens them; anyone else gets the console's
404. Every POST needs the session's CSRF token. Each request is audited under the action the
API's route of the same use case records (``rule.create``, ``rule.dry_run`` …).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.api.audit_hook import AuditDep
from app.api.deps import SessionDep
from app.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    field_problems_from_validation,
)
from app.schemas.routing import DefaultRulesLoad, RoutingRuleIn
from app.services import agencies, routing, routing_samples
from app.services.routing import RoutedTo, RoutingFacts, RuleInput, RuleSpec
from app.vocab import COUNTRIES, REGIONS, code_list
from app.web.admin_common import (
    AdminOfficer,
    SystemAdmin,
    admin_page,
    back_to,
    form_text,
    plain_errors,
)
from app.web.forms import NO_ERRORS, FormErrors, form_errors
from app.web.i18n import Catalogue
from app.web.routing_words import label, rule_in_words, tlp_name
from app.web.templating import catalogue_for

router = APIRouter(prefix="/admin/aturan-rute", include_in_schema=False)

RULES = "/admin/aturan-rute"
RULE = RULES + "/{rule_id:uuid}"

#: Multiple-choice fields of the rule form and the code list offering their choices.
_CHOICE_FIELDS = {
    "case_types": "case_types",
    "modus_operandi": "modus_operandi",
    "exploitation_types": "exploitation_types",
    "document_types": "document_types",
    "document_statuses": "document_statuses",
    "tlps": "tlp",
}
#: Codes typed into one text field, separated by commas or spaces.
_TYPED_LISTS = ("region_prefixes", "destination_countries")
_SEPARATORS = re.compile(r"[\s,;]+")


# --- reading the rule form --------------------------------------------------------------


def _typed_list(form: FormData, name: str) -> list[str]:
    text = form_text(form, name) or ""
    return [part for part in _SEPARATORS.split(text) if part]


def _rule_typed(form: FormData) -> dict[str, Any]:
    """What the admin entered, as entered (shown again on an error, nothing lost)."""
    typed: dict[str, Any] = {
        "name": form_text(form, "name"),
        "description": form_text(form, "description"),
        "active": form.get("active") == "1",
        "foreign_nationals": form_text(form, "foreign_nationals") or "",
        "recipients": [str(v) for v in form.getlist("recipients")],
    }
    for name in _CHOICE_FIELDS:
        typed[name] = [str(v) for v in form.getlist(name)]
    for name in _TYPED_LISTS:
        typed[name] = form_text(form, name) or ""
    return typed


def _rule_body(form: FormData) -> dict[str, Any]:
    """The form as the API's request body (``RoutingRuleIn``)."""
    typed = _rule_typed(form)
    foreign = {"true": True, "false": False}.get(typed["foreign_nationals"])
    body: dict[str, Any] = {
        "name": typed["name"] or "",
        "description": typed["description"],
        "active": typed["active"],
        "foreign_nationals": foreign,
        "recipients": typed["recipients"],
        "region_prefixes": _typed_list(form, "region_prefixes"),
        "destination_countries": [c.upper() for c in _typed_list(form, "destination_countries")],
    }
    body.update({name: typed[name] for name in _CHOICE_FIELDS})
    return body


def _typed_of(rule: RuleInput) -> dict[str, Any]:
    """A stored rule as the form shows it."""
    typed: dict[str, Any] = {
        "name": rule.name,
        "description": rule.description,
        "active": rule.active,
        "foreign_nationals": (
            "" if rule.foreign_nationals is None else str(rule.foreign_nationals).lower()
        ),
        "recipients": list(rule.recipients),
        "region_prefixes": ", ".join(rule.region_prefixes),
        "destination_countries": ", ".join(rule.destination_countries),
    }
    typed.update({name: list(getattr(rule, name)) for name in _CHOICE_FIELDS})
    return typed


def _field_problems(problems: list[FieldProblem]) -> list[FieldProblem]:
    """Each problem beside its form field: ``/region_prefixes/1`` is the region field."""
    return [
        FieldProblem("/" + p.pointer.strip("/").split("/")[0], p.detail, p.code) for p in problems
    ]


def _rule_errors(request: Request, problems: list[FieldProblem]) -> FormErrors:
    """The API's problems in plain words (``admin.routing_invalid.<field>``) beside the fields;
    a name already taken has its own words."""
    fields = _field_problems(problems)
    taken = [p for p in fields if p.code == "duplicate"]
    others = [p for p in fields if p.code != "duplicate"]
    plain = plain_errors(request, others, "routing_invalid")
    if not taken:
        return plain
    named = plain_errors(request, taken, "routing_taken")
    return form_errors(
        [FieldProblem("/" + i.field_id, i.message) for i in (*named.summary, *plain.summary)]
    )


# --- what the pages show ----------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    """One rule of the ordered list: its place, its words and whether it is on."""

    id: uuid.UUID
    number: int
    name: str
    description: str | None
    words: str
    active: bool
    first: bool
    last: bool


@dataclass(frozen=True)
class RecipientRow:
    """One agency a dry run would send the report to, and why."""

    agency_code: str
    agency_name: str | None
    #: The rule's name; None when the sender named the agency itself.
    rule: str | None
    rule_words: str | None


async def _agency_options(session: SessionDep, keep: list[str]) -> list[tuple[str, str]]:
    """The active member agencies as choices, plus any agency in ``keep`` (a stored rule's
    recipients) that no longer is, so editing a rule never drops one silently."""
    members = await agencies.member_agencies(session)
    options = [(a.code, f"{a.code} — {a.name}") for a in members]
    listed = {a.code for a in members}
    options += [(code, code) for code in keep if code not in listed]
    return options


def _choices(words: Catalogue) -> dict[str, list[tuple[str, str]]]:
    """The options of each multiple-choice field in the page's language (TLP:RED never:
    no rule can route a RED report, so the form does not offer it)."""
    choices = {
        field: [(c.code, label(name, c.code, words)) for c in code_list(name).codes]
        for field, name in _CHOICE_FIELDS.items()
    }
    choices["tlps"] = [(c, tlp_name(c)) for c, _ in choices["tlps"] if c != "RED"]
    return choices


async def _rule_form(
    request: Request,
    admin: AdminOfficer,
    session: SessionDep,
    *,
    rule_id: uuid.UUID | None,
    typed: dict[str, Any],
    errors: FormErrors = NO_ERRORS,
    trial: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    words = catalogue_for(request)
    return admin_page(
        request,
        admin,
        "routing_rule.html",
        {
            "rule_id": rule_id,
            "typed": typed,
            "errors": errors,
            "choices": _choices(words),
            "agency_options": await _agency_options(session, typed.get("recipients", [])),
            "regions": code_list(REGIONS).codes,
            "countries": code_list(COUNTRIES).codes,
            "trial": trial or _trial_typed(None),
        },
        status_code=status_code,
    )


async def _rule_rows(session: SessionDep, words: Catalogue) -> list[RuleRow]:
    rules = await routing.list_rules(session)
    active = await routing.active_agency_codes(session)
    inactive = {code for r in rules for code in r.recipients if code not in active}
    return [
        RuleRow(
            id=rule.id,
            number=i,
            name=rule.name,
            description=rule.description,
            words=rule_in_words(RuleSpec.of(rule), words, inactive),
            active=rule.active,
            first=i == 1,
            last=i == len(rules),
        )
        for i, rule in enumerate(rules, start=1)
    ]


# --- the list, moving, switching ------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def rule_list(
    request: Request, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> HTMLResponse:
    """Every rule in evaluation order, each in words, with what can be done to it."""
    audit.action("rule.list")
    rows = await _rule_rows(session, catalogue_for(request))
    return admin_page(request, admin, "routing_rules.html", {"rules": rows})


# --- create and edit ------------------------------------------------------------------


@router.get("/baru", response_class=HTMLResponse)
async def rule_new(request: Request, admin: SystemAdmin, session: SessionDep) -> HTMLResponse:
    """The form for a new rule (added last in the order)."""
    typed = _typed_of(RuleInput(name="", recipients=[]))
    return await _rule_form(request, admin, session, rule_id=None, typed=typed)


@router.get(RULE.removeprefix(RULES), response_class=HTMLResponse)
async def rule_edit(
    request: Request, rule_id: uuid.UUID, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> HTMLResponse:
    """The form to change one rule, filled with what is stored."""
    audit.action("rule.read")
    rule = routing.rule_input(await routing.get_rule(session, rule_id))
    return await _rule_form(request, admin, session, rule_id=rule_id, typed=_typed_of(rule))


@router.post("/baru", response_class=HTMLResponse, response_model=None)
async def rule_create(
    request: Request, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> HTMLResponse | RedirectResponse:
    """Save the new rule (or try it first), or show the form again with the problems."""
    return await _save_or_try(request, admin, session, audit, rule_id=None)


@router.post(RULE.removeprefix(RULES), response_class=HTMLResponse, response_model=None)
async def rule_update(
    request: Request, rule_id: uuid.UUID, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> HTMLResponse | RedirectResponse:
    """Save the changed rule (its place is kept), or try the change first."""
    await routing.get_rule(session, rule_id)  # 404 before reading a form for no rule
    return await _save_or_try(request, admin, session, audit, rule_id=rule_id)


async def _save_or_try(
    request: Request,
    admin: AdminOfficer,
    session: SessionDep,
    audit: AuditDep,
    *,
    rule_id: uuid.UUID | None,
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    typed = _rule_typed(form)
    trying = form.get("action") == "try"
    audit.action("rule.dry_run" if trying else "rule.create" if rule_id is None else "rule.update")
    trial_typed = _trial_typed(form)
    try:
        draft = routing.RuleInput(
            **RoutingRuleIn.model_validate(_rule_body(form)).model_dump(exclude={"position"})
        )
    except ValidationError as invalid:
        problems = field_problems_from_validation(invalid.errors())
        errors = _rule_errors(request, problems)
        return await _rule_form(
            request,
            admin,
            session,
            rule_id=rule_id,
            typed=typed,
            errors=errors,
            trial=trial_typed,
            status_code=422,
        )
    if trying:
        return await _try_draft(request, admin, session, audit, rule_id, draft, typed, form)
    try:
        if rule_id is None:
            saved = await routing.create_rule(session, draft)
        else:
            saved = await routing.update_rule(session, rule_id, draft)
    except (InvalidInput, Conflict) as refused:
        return await _rule_form(
            request,
            admin,
            session,
            rule_id=rule_id,
            typed=typed,
            errors=_rule_errors(request, refused.errors),
            trial=trial_typed,
            status_code=refused.status,
        )
    audit.object("routing_rule", saved.id)
    message = "flash.admin.routing_created" if rule_id is None else "flash.admin.routing_saved"
    return back_to(request, f"{RULES}#rule-{saved.id}", message)


async def _try_draft(
    request: Request,
    admin: AdminOfficer,
    session: SessionDep,
    audit: AuditDep,
    rule_id: uuid.UUID | None,
    draft: RuleInput,
    typed: dict[str, Any],
    form: FormData,
) -> HTMLResponse:
    """The edit form again, unsaved, with who the sample report would reach under it."""
    words = catalogue_for(request)
    trial = _trial_typed(form)
    try:
        facts = await _facts(session, admin, audit, form)
        routed = await routing.dry_run_draft(session, facts, draft, rule_id)
    except InvalidInput as refused:
        errors = _sample_errors(request, refused) if _is_sample(refused) else None
        return await _rule_form(
            request,
            admin,
            session,
            rule_id=rule_id,
            typed=typed,
            errors=errors or _rule_errors(request, refused.errors),
            trial=trial,
            status_code=422,
        )
    specs = [RuleSpec.of(r) for r in await routing.list_rules(session)] + [draft.spec()]
    trial["result"] = await _result(session, words, facts, routed, specs)
    trial["draft_name"] = draft.name
    return await _rule_form(request, admin, session, rule_id=rule_id, typed=typed, trial=trial)


# --- delete -------------------------------------------------------------------------------


@router.get(RULE.removeprefix(RULES) + "/hapus", response_class=HTMLResponse)
async def rule_delete_confirm(
    request: Request, rule_id: uuid.UUID, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> HTMLResponse:
    """What deleting the rule does, before it happens."""
    audit.action("rule.read")
    rule = await routing.get_rule(session, rule_id)
    words = rule_in_words(RuleSpec.of(rule), catalogue_for(request))
    return admin_page(
        request,
        admin,
        "routing_delete.html",
        {"rule_id": rule.id, "name": rule.name, "words": words},
    )


@router.post(RULE.removeprefix(RULES) + "/hapus", response_class=HTMLResponse)
async def rule_delete(
    request: Request, rule_id: uuid.UUID, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> RedirectResponse:
    """Delete the rule; deliveries it already caused stay."""
    audit.action("rule.delete")
    await routing.delete_rule(session, rule_id)
    return back_to(request, RULES, "flash.admin.routing_deleted")


# --- dry run --------------------------------------------------------------------------


def _trial_typed(form: FormData | None) -> dict[str, Any]:
    """The sample report fields as typed: a stored report's id, or pasted JSON and its sender."""
    if form is None:
        return {"report_id": "", "report_json": "", "source_agency_code": "", "result": None}
    return {
        "report_id": form_text(form, "report_id") or "",
        "report_json": form_text(form, "report_json") or "",
        "source_agency_code": form_text(form, "source_agency_code") or "",
        "result": None,
    }


#: Pointers of a sample's problems start here, so they land beside the sample's fields.
_SAMPLE = "/sample"


async def _facts(
    session: SessionDep, admin: AdminOfficer, audit: AuditDep, form: FormData
) -> RoutingFacts:
    """The sample report's routing facts: the stored report named, or the pasted JSON."""
    report_id = form_text(form, "report_id")
    pasted = form_text(form, "report_json")
    if report_id is not None:
        try:
            wanted = uuid.UUID(report_id)
        except ValueError:
            wanted = None
        if wanted is not None:
            audit.object("report", wanted)
            try:
                return await routing_samples.facts_of_report(session, admin.principal, wanted)
            except NotFound:
                pass
        raise InvalidInput(
            detail="No such report",
            errors=[FieldProblem(f"{_SAMPLE}/report_id", "no such report", "report_not_found")],
        )
    if pasted is None:
        raise InvalidInput(
            detail="Name a report or paste one",
            errors=[FieldProblem(f"{_SAMPLE}/report_id", "nothing to try", "sample_missing")],
        )
    try:
        return routing_samples.facts_of_pasted(pasted, form_text(form, "source_agency_code"))
    except InvalidInput as refused:
        raise InvalidInput(
            detail=refused.detail,
            errors=_pasted_problems(refused.errors),
        ) from None


def _pasted_problems(problems: list[FieldProblem]) -> list[FieldProblem]:
    """The pasted JSON's problems beside the paste field, as one message naming where in the
    JSON each lies (the first few); a missing sender beside the sender field."""
    sender = [p for p in problems if p.pointer == "/source_agency_code" and p.code == "missing"]
    inside = [p for p in problems if p not in sender]
    found = [FieldProblem(f"{_SAMPLE}/source_agency_code", p.detail, p.code) for p in sender]
    if inside:
        shown = "; ".join(f"{p.pointer or '/'}: {p.detail}" for p in inside[:_SHOWN])
        more = f" (+{len(inside) - _SHOWN})" if len(inside) > _SHOWN else ""
        found.append(FieldProblem(f"{_SAMPLE}/report_json", shown + more, inside[0].code))
    return found


#: How many of a pasted report's problems its error message names.
_SHOWN = 4


def _is_sample(refused: InvalidInput) -> bool:
    return any(p.pointer.startswith(_SAMPLE + "/") for p in refused.errors)


def _sample_errors(request: Request, refused: InvalidInput) -> FormErrors:
    """The sample's problems beside its fields, in plain words."""
    words = catalogue_for(request)
    plain: list[FieldProblem] = []
    for problem in refused.errors:
        field = problem.pointer.removeprefix(_SAMPLE + "/")
        key = f"admin.routing_sample.{problem.code}"
        if field == "report_json":
            where = problem.detail
            message = words.text("admin.routing_sample.report_json", detail=where)
        else:
            message = words.text(key) if words.has(key) else problem.detail
        plain.append(FieldProblem("/" + field, message, problem.code))
    return form_errors(plain)


async def _result(
    session: SessionDep,
    words: Catalogue,
    facts: RoutingFacts,
    routed: list[RoutedTo],
    specs: list[RuleSpec],
) -> dict[str, Any]:
    """Who would receive the sample, each with the rule in words, and the sample's facts."""
    names = {a.code: a.name for a in await agencies.member_agencies(session)}
    by_name = {s.name: s for s in specs}
    rows: list[RecipientRow] = []
    said: set[str] = set()  # a rule's words once, at its first recipient
    for r in routed:
        first = r.rule in by_name and r.rule not in said
        said.add(r.rule)
        rows.append(
            RecipientRow(
                agency_code=r.agency_code,
                agency_name=names.get(r.agency_code),
                rule=None if r.rule == routing.EXPLICIT_RULE else r.rule,
                rule_words=rule_in_words(by_name[r.rule], words) if first else None,
            )
        )
    notes = {
        "RED": "admin.routing.result.tlp_red",
        "AMBER_STRICT": "admin.routing.result.tlp_strict",
    }
    return {"rows": rows, "facts": _facts_rows(facts, words), "tlp_note": notes.get(facts.tlp)}


def _facts_rows(facts: RoutingFacts, words: Catalogue) -> list[tuple[str, str]]:
    """The sample's routing facts as (catalogue key of the label, value in words)."""

    def labels(list_name: str, codes: frozenset[str] | tuple[str, ...]) -> str:
        return ", ".join(label(list_name, c, words) for c in sorted(codes)) or "—"

    region = label(REGIONS, facts.region_code, words) if facts.region_code else "—"
    return [
        ("admin.routing.fact.source", facts.source_agency_code),
        ("admin.routing.fact.case_type", label("case_types", facts.case_type, words)),
        ("admin.routing.fact.tlp", tlp_name(facts.tlp)),
        ("admin.routing.fact.modus", labels("modus_operandi", facts.modus_codes)),
        ("admin.routing.fact.exploitation", labels("exploitation_types", facts.exploitation_types)),
        ("admin.routing.fact.region", region),
        (
            "admin.routing.fact.foreign",
            words.text(
                "admin.routing.fact.yes" if facts.has_foreign_nationals else "admin.routing.fact.no"
            ),
        ),
        ("admin.routing.fact.documents", labels("document_types", facts.document_types)),
        ("admin.routing.fact.statuses", labels("document_statuses", facts.document_statuses)),
        ("admin.routing.fact.destinations", labels(COUNTRIES, facts.destination_countries)),
        ("admin.routing.fact.recipients", ", ".join(facts.explicit_recipients) or "—"),
    ]


async def _dry_run_page(
    request: Request,
    admin: AdminOfficer,
    session: SessionDep,
    trial: dict[str, Any],
    errors: FormErrors = NO_ERRORS,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    options = await _agency_options(session, [])
    return admin_page(
        request,
        admin,
        "routing_dry_run.html",
        {"trial": trial, "errors": errors, "agency_options": options},
        status_code=status_code,
    )


@router.get("/uji", response_class=HTMLResponse)
async def dry_run_form(request: Request, admin: SystemAdmin, session: SessionDep) -> HTMLResponse:
    """Try a report against the stored rules: name a stored one or paste one."""
    return await _dry_run_page(request, admin, session, _trial_typed(None))


@router.post("/uji", response_class=HTMLResponse)
async def dry_run(
    request: Request, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> HTMLResponse:
    """Who would receive the report under the stored rules, and by which rule; nothing is
    saved or sent."""
    audit.action("rule.dry_run")
    form = await request.form()
    trial = _trial_typed(form)
    try:
        facts = await _facts(session, admin, audit, form)
    except InvalidInput as refused:
        errors = _sample_errors(request, refused)
        return await _dry_run_page(request, admin, session, trial, errors, status_code=422)
    routed = await routing.dry_run(session, facts)
    specs = [RuleSpec.of(r) for r in await routing.list_rules(session)]
    trial["result"] = await _result(session, catalogue_for(request), facts, routed, specs)
    return await _dry_run_page(request, admin, session, trial)


# --- the default TIMPORA rule set ----------------------------------------------------------


@router.get("/bawaan", response_class=HTMLResponse)
async def defaults_form(
    request: Request,
    admin: SystemAdmin,
    session: SessionDep,
    audit: AuditDep,
    region_code: str | None = None,
) -> HTMLResponse:
    """Choose the team's region; once chosen, what loading would add, keep and skip (nothing
    is created yet)."""
    typed = (region_code or "").strip()
    plan = None
    errors = NO_ERRORS
    if typed:
        try:
            body = DefaultRulesLoad.model_validate({"region_code": typed, "dry_run": True})
        except ValidationError:
            problem = FieldProblem("/region_code", "not a region code", "invalid")
            errors = plain_errors(request, [problem], "routing_defaults")
        else:
            audit.action("rule.load_defaults")
            plan = await routing.load_default_rules_into(
                session, region_code=body.region_code, dry_run=True
            )
    region = code_list(REGIONS).get(typed) if typed else None
    return admin_page(
        request,
        admin,
        "routing_defaults.html",
        {
            "region_code": typed,
            "region": region,
            "regions": code_list(REGIONS).codes,
            "plan": plan,
            "errors": errors,
            "creates": sum(p.outcome == "would_create" for p in plan or []),
        },
        status_code=422 if errors else 200,
    )


@router.post("/bawaan", response_class=HTMLResponse)
async def defaults_load(
    request: Request, admin: SystemAdmin, session: SessionDep, audit: AuditDep
) -> RedirectResponse:
    """Load the default rules for the region: each created last in the order."""
    audit.action("rule.load_defaults")
    form = await request.form()
    try:
        body = DefaultRulesLoad.model_validate({"region_code": form_text(form, "region_code")})
    except ValidationError as invalid:
        problems = field_problems_from_validation(invalid.errors())
        raise InvalidInput(detail="Not a region code", errors=problems) from None
    plan = await routing.load_default_rules_into(session, region_code=body.region_code)
    created = sum(p.outcome == "created" for p in plan)
    message = (
        "flash.admin.routing_defaults_loaded" if created else "flash.admin.routing_defaults_none"
    )
    return back_to(request, RULES, message)


# Last: its path would otherwise catch /<id>/hapus.
@router.post(RULE.removeprefix(RULES) + "/{direction}", response_class=HTMLResponse)
async def rule_change(
    request: Request,
    rule_id: uuid.UUID,
    direction: str,
    admin: SystemAdmin,
    session: SessionDep,
    audit: AuditDep,
) -> RedirectResponse:
    """Move a rule one place up or down, or switch it on or off; back to the list at it."""
    if direction in ("naik", "turun"):
        audit.action("rule.reorder")
        await routing.move_rule(session, rule_id, -1 if direction == "naik" else 1)
        message = "flash.admin.routing_moved"
    elif direction in ("aktifkan", "nonaktifkan"):
        audit.action("rule.update")
        await routing.set_rule_active(session, rule_id, active=direction == "aktifkan")
        message = f"flash.admin.routing_{'activated' if direction == 'aktifkan' else 'paused'}"
    else:
        raise NotFound(detail="No such page")
    return back_to(request, f"{RULES}#rule-{rule_id}", message)
