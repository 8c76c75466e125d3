"""Admin: routing rules (CRUD, order, dry run)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.api.deps import Admin, SessionDep
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.schemas.routing import (
    DefaultRuleOutcome,
    DefaultRulesLoad,
    DefaultRulesLoaded,
    DryRunRequest,
    DryRunResult,
    RoutedToOut,
    RoutingRuleCreate,
    RoutingRuleIn,
    RoutingRuleList,
    RoutingRuleOrder,
    RoutingRuleOut,
)
from app.services import routing, routing_samples

router = APIRouter(
    prefix="/v1/admin/routing-rules",
    tags=["routing-rules"],
    route_class=SinergiRoute,
    generate_unique_id_function=operation_id,
)


def _input(body: RoutingRuleIn) -> routing.RuleInput:
    return routing.RuleInput(**body.model_dump(exclude={"position"}))


@router.get(
    "",
    response_model=RoutingRuleList,
    status_code=200,
    summary="Every routing rule, in evaluation order",
    responses=problem_responses(401, 403),
)
async def list(_: Admin, session: SessionDep) -> RoutingRuleList:
    """Routing rules in the order they are evaluated;
    each names the agencies that receive matching reports."""
    rules = await routing.list_rules(session)
    return RoutingRuleList(items=[RoutingRuleOut.model_validate(r) for r in rules])


@router.post(
    "",
    response_model=RoutingRuleOut,
    status_code=201,
    summary="Add a routing rule",
    description="Refused with 422 when it names an unknown agency or can never match.",
    responses=problem_responses(401, 403, 409, 415, 422),
)
async def create(body: RoutingRuleCreate, _: Admin, session: SessionDep) -> RoutingRuleOut:
    rule = await routing.create_rule(session, _input(body), body.position)
    return RoutingRuleOut.model_validate(rule)


@router.post(
    "/reorder",
    response_model=RoutingRuleList,
    status_code=200,
    summary="Set the evaluation order of all rules",
    responses=problem_responses(401, 403, 415, 422),
)
async def reorder(body: RoutingRuleOrder, _: Admin, session: SessionDep) -> RoutingRuleList:
    """Send every rule id once, in the new order; 422 if one is missing or unknown."""
    rules = await routing.reorder_rules(session, body.rule_ids)
    return RoutingRuleList(items=[RoutingRuleOut.model_validate(r) for r in rules])


@router.post(
    "/dry-run",
    response_model=DryRunResult,
    status_code=200,
    summary="Route a sample report without saving or sending anything",
    description=(
        "Uses `rules` in the given order when present (to try a rule set before saving it), "
        "the stored rules otherwise. TLP is enforced as for real reports."
    ),
    responses=problem_responses(401, 403, 415, 422),
)
async def dry_run(body: DryRunRequest, _: Admin, session: SessionDep) -> DryRunResult:
    facts = routing_samples.facts_of_sample(body.sample)
    rules = None if body.rules is None else [_input(r) for r in body.rules]
    routed = await routing.dry_run(session, facts, rules)
    return DryRunResult(
        routed_to=[RoutedToOut(agency_code=r.agency_code, rule=r.rule) for r in routed]
    )


@router.post(
    "/load-defaults",
    response_model=DefaultRulesLoaded,
    status_code=200,
    summary="Load the default city-TIMPORA rule set",
    description=(
        "Creates the rules of the seeded rule set (`app/vocab/routing/default_rules.json`), each "
        "routed to the active agencies of its kinds in `region_code`. Rules already stored (by "
        "name) are left alone, so loading twice adds nothing; `dry_run` creates nothing. The "
        "same as `sinergi routing load-defaults`."
    ),
    responses=problem_responses(401, 403, 415, 422),
)
async def load_defaults(
    body: DefaultRulesLoad, _: Admin, session: SessionDep
) -> DefaultRulesLoaded:
    plan = await routing.load_default_rules_into(
        session, region_code=body.region_code, dry_run=body.dry_run
    )
    return DefaultRulesLoaded(
        dry_run=body.dry_run,
        created=sum(p.outcome == "created" for p in plan),
        rules=[
            DefaultRuleOutcome(
                name=p.name,
                description=p.description,
                recipients=[*p.recipients],
                outcome=p.outcome,
            )
            for p in plan
        ],
    )


@router.get(
    "/{rule_id:uuid}",
    response_model=RoutingRuleOut,
    status_code=200,
    summary="One routing rule",
    responses=problem_responses(401, 403, 404),
)
async def read(rule_id: uuid.UUID, _: Admin, session: SessionDep) -> RoutingRuleOut:
    """One routing rule by id."""
    return RoutingRuleOut.model_validate(await routing.get_rule(session, rule_id))


@router.put(
    "/{rule_id:uuid}",
    response_model=RoutingRuleOut,
    status_code=200,
    summary="Replace a routing rule (its position is kept)",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def update(
    rule_id: uuid.UUID, body: RoutingRuleIn, _: Admin, session: SessionDep
) -> RoutingRuleOut:
    """Replace the rule's conditions and recipients; its position in the order is kept."""
    return RoutingRuleOut.model_validate(await routing.update_rule(session, rule_id, _input(body)))


@router.delete(
    "/{rule_id:uuid}",
    status_code=204,
    response_class=Response,
    summary="Delete a routing rule",
    responses=problem_responses(401, 403, 404),
)
async def delete(rule_id: uuid.UUID, _: Admin, session: SessionDep) -> Response:
    """Remove the rule; deliveries it already caused stay."""
    await routing.delete_rule(session, rule_id)
    return Response(status_code=204)
