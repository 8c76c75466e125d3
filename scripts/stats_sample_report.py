"""Render the coordination-meeting report from a synthetic year of reports, for the docs.

    .venv/bin/python scripts/stats_sample_report.py docs/stats-report.html docs/stats-report.png

Seeds a throw-away SQLite database through the HTTP API (tests/stats_samples.py), fetches
``GET /v1/stats/report`` as the Police of Dumai would, writes the page and, when Chromium is
installed, a screenshot of it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import migrate
from app.main import create_app
from tests.chromium import chromium_path, screenshot
from tests.conftest import make_settings
from tests.factories import bearer, create_agency, token_for
from tests.stats_samples import AGENCIES, meeting_year

VIEWER = "POLRES-DUMAI"


async def render(url: str) -> str:
    app = create_app(make_settings(url))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sinergi.local") as client:
        for code, kind in AGENCIES.items():
            await create_agency(app, code, kind=kind)
        headers = {code: bearer(await token_for(client, app, code)) for code in AGENCIES}
        for source, body in meeting_year():
            response = await client.post("/v1/reports", json=body, headers=headers[source])
            response.raise_for_status()
        page = await client.get(
            "/v1/stats/report",
            params={"from": "2025-01-01", "to": "2025-12-31"},
            headers=headers[VIEWER],
        )
        page.raise_for_status()
    await app.state.engine.dispose()
    return page.text


def main() -> None:
    html_out = Path(sys.argv[1] if len(sys.argv) > 1 else "stats-report.html")
    png_out = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    html_out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/sample.db"
        migrate.upgrade(url)
        html_out.write_text(asyncio.run(render(url)), encoding="utf-8")
    print(f"wrote {html_out}")
    if png_out is not None:
        if chromium_path() is None:
            sys.exit("chromium is not installed: no screenshot")
        screenshot(html_out, png_out, width=1280, height=3050)
        print(f"wrote {png_out}")


if __name__ == "__main__":
    main()
