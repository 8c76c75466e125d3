"""The practical limit of this stack: FastAPI + Pydantic + one SQLAlchemy async INSERT.

Served by Uvicorn with the options ``sinergi serve`` uses (``app.cli.uvicorn_options``), on an
engine built by the app's own ``app.db.create_engine`` (same pool, drivers and JSON codec), against
the same PostgreSQL (its own table ``baseline_reports``). ``POST /reports`` validates a small model
and inserts the JSON body in one transaction; ``GET /reports/{id}`` reads one row by primary key.
Run by ``benchmarks.ingest``; by hand:

    BASELINE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/bench_db \
        python -m benchmarks.baseline_app --port 8101
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, DateTime, String, Uuid, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.cli import uvicorn_options
from app.config import get_settings
from app.db import create_engine


class Base(DeclarativeBase):
    pass


class BaselineReport(Base):
    __tablename__ = "baseline_reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_ref: Mapped[str] = mapped_column(String(128))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    full_name: str | None = None


class ReportIn(BaseModel):
    """A small model: what any JSON API would check before storing."""

    model_config = ConfigDict(extra="allow")
    external_ref: str = Field(max_length=128)
    case_type: str
    tlp: str
    persons: list[PersonIn]


class Created(BaseModel):
    id: uuid.UUID


class ReportOut(BaseModel):
    id: uuid.UUID
    external_ref: str
    body: dict[str, Any]
    created_at: datetime


def create_app() -> FastAPI:
    url = os.environ["BASELINE_DATABASE_URL"]
    # Sinergi's own engine factory and settings (pool size, pre-ping, statement cache, JSON).
    engine = create_engine(get_settings().model_copy(update={"database_url": url}))
    factory = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/reports", status_code=201, response_model=Created)
    async def create(body: ReportIn, response: Response) -> Created:
        row = BaselineReport(
            id=uuid.uuid4(),
            external_ref=body.external_ref,
            body=body.model_dump(mode="json"),
            created_at=datetime.now(UTC),
        )
        async with factory() as session, session.begin():
            session.add(row)
        response.headers["Location"] = f"/reports/{row.id}"
        return Created(id=row.id)

    @app.get("/reports/{report_id}", response_model=ReportOut)
    async def read(report_id: uuid.UUID) -> ReportOut:
        async with factory() as session:
            row = (
                await session.execute(select(BaselineReport).where(BaselineReport.id == report_id))
            ).scalar_one_or_none()
        if row is None:
            raise HTTPException(404)
        return ReportOut(
            id=row.id, external_ref=row.external_ref, body=row.body, created_at=row.created_at
        )

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    # Exactly what `sinergi serve` passes (app/cli.py), log level as the runner sets it.
    uvicorn.run(
        "benchmarks.baseline_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        **uvicorn_options(get_settings()),  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
