"""Liveness and readiness probes (public)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import migrate
from app.api.problems import problem_responses
from app.api.route_class import SinergiRoute, operation_id
from app.errors import SinergiError
from app.services.secrets import check_secrets, problems

logger = logging.getLogger("sinergi.health")

router = APIRouter(
    tags=["health"], route_class=SinergiRoute, generate_unique_id_function=operation_id
)


class NotReady(SinergiError):
    status = 503
    slug = "not-ready"
    title = "Service not ready"


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    database: str = Field(description="The database backend in use.", examples=["sqlite"])
    revision: str = Field(description="The schema's migration revision.")


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def alive() -> Health:
    """Liveness: answers 200 while the process serves requests; it does not touch the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The database is reachable and migrated to head",
    responses=problem_responses(503),
)
async def ready(request: Request) -> Readiness:
    """Readiness: 200 when the database answers, its schema is at the latest migration and the
    configured secrets are the ones its data was made with; 503 otherwise (route no traffic here
    yet), naming the setting at fault."""
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(migrate.current_revisions)
    except Exception as exc:  # noqa: BLE001  (any driver error means "not ready")
        logger.warning("readiness: database unreachable: %s", type(exc).__name__)
        raise NotReady(detail="The database is unreachable") from None
    heads = migrate.head_revisions()
    if current != heads:
        raise NotReady(
            detail=f"The database schema is at {sorted(current) or 'nothing'}, "
            f"not at head {sorted(heads)}; run `sinergi migrate upgrade`"
        )
    await _check_secrets(request)
    return Readiness(
        status="ready", database=engine.dialect.name, revision=",".join(sorted(current))
    )


async def _check_secrets(request: Request) -> None:
    """Not ready when a configured secret is not the one the stored data was made with."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    try:
        async with factory() as session:
            refused = problems(await check_secrets(session, request.app.state.settings))
    except Exception as exc:  # noqa: BLE001  (any driver error means "not ready")
        logger.warning("readiness: secrets not checked: %s", type(exc).__name__)
        raise NotReady(detail="The database is unreachable") from None
    if refused:
        for problem in refused:
            logger.error("readiness: %s", problem)
        raise NotReady(detail="; ".join(refused))
