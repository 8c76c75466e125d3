"""The integrator path, end to end, through a client generated from openapi/openapi.json.

Run by ``.ci/run``. It generates a Python client with openapi-python-client into a temporary
directory (never committed), installs it into the running interpreter's environment, starts a live
``sinergi serve`` on a fresh SQLite database on 127.0.0.1 (a free port), sets it up from the
command line as an operator would (``sinergi admin bootstrap``, ``create-agency``, ``issue-key``),
and then, with the generated client only: gets a token (OAuth 2.0 client credentials), submits a
report naming the second agency in ``recipients``, and reads that agency's inbox until the report
arrives. The server is stopped whatever happens.

    python scripts/generated_client_check.py [--spec openapi/openapi.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SENDER, RECIPIENT = "IMIGRASI-DUMAI", "POLRES-DUMAI"


def report_from(spec: Path) -> dict[str, Any]:
    """The spec's first ``ReportIn`` example (a passport application deferred at Kantor
    Imigrasi Dumai), as an integrator would copy it, addressed to the city police."""
    examples = json.loads(spec.read_text())["components"]["schemas"]["ReportIn"]["examples"]
    return {**examples[0], "recipients": [RECIPIENT]}


def step(message: str) -> None:
    print(f"generated-client: {message}", flush=True)


def sinergi(env: dict[str, str], *args: str) -> str:
    """Run the ``sinergi`` command; its stdout (a key, for the key-printing commands)."""
    done = subprocess.run(
        [str(BIN / "sinergi"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"sinergi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def generate_and_install(spec: Path, work: Path) -> None:
    out = work / "sinergi-client"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "setup",
            "--output-path",
            str(out),
        ],
        env=env,
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", str(out)], env=env, check=True
    )
    importlib.invalidate_caches()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"sinergi serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("sinergi serve did not become ready within 60 s")


def integrator_path(base_url: str, keys: dict[str, str], report_body: dict[str, Any]) -> None:
    """What an agency's developer does with nothing but the generated client."""
    client_pkg = importlib.import_module("sinergi_client")
    auth_token = importlib.import_module("sinergi_client.api.auth.auth_token")
    reports_create = importlib.import_module("sinergi_client.api.reports.reports_create")
    inbox_list = importlib.import_module("sinergi_client.api.inbox.inbox_list")
    models = importlib.import_module("sinergi_client.models")

    def token(code: str) -> str:
        answer = auth_token.sync_detailed(
            client=client_pkg.Client(base_url=base_url),
            body=models.BodyAuthToken(
                grant_type="client_credentials", client_id=code, client_secret=keys[code]
            ),
        )
        if answer.status_code != 200:
            raise SystemExit(f"token for {code}: {answer.status_code} {answer.content!r}")
        assert isinstance(answer.parsed, models.TokenResponse), answer.parsed
        assert answer.parsed.token_type.lower() == "bearer"
        value: str = answer.parsed.access_token
        return value

    sender = client_pkg.AuthenticatedClient(base_url=base_url, token=token(SENDER))
    created = reports_create.sync_detailed(
        client=sender, body=models.ReportIn.from_dict(report_body), idempotency_key="ci-generated-1"
    )
    if created.status_code != 201:
        raise SystemExit(f"reports_create: {created.status_code} {created.content!r}")
    report = created.parsed
    assert isinstance(report, models.ReportCreated), report
    routed = [r.agency for r in report.routed_to]
    step(f"report {report.id} created (version {report.version}), routed to {routed}")
    if RECIPIENT not in routed:
        raise SystemExit(f"the report was not routed to {RECIPIENT}: {routed}")

    recipient = client_pkg.AuthenticatedClient(base_url=base_url, token=token(RECIPIENT))
    page = inbox_list.sync_detailed(client=recipient, limit=50)
    if page.status_code != 200:
        raise SystemExit(f"inbox_list: {page.status_code} {page.content!r}")
    assert isinstance(page.parsed, models.InboxPage), page.parsed
    arrived = [
        item
        for item in page.parsed.items
        if str(item.event) == "report.routed" and item.report_id == report.id
    ]
    if not arrived:
        raise SystemExit(f"{RECIPIENT}'s inbox has no report.routed for {report.id}")
    step(
        f"{RECIPIENT}'s inbox: delivery {arrived[0].id} sequence {arrived[0].sequence} "
        f"({arrived[0].event}) for report {report.id}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "openapi" / "openapi.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sinergi-client-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        step(f"generating a client from {args.spec}")
        generate_and_install(args.spec.resolve(), work)

        env = {
            **os.environ,
            "SINERGI_ENV": "development",
            "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'sinergi.db'}",
            "SINERGI_LOG_LEVEL": "WARNING",
        }
        sinergi(env, "migrate", "upgrade", "head")
        keys = {"ADMIN": sinergi(env, "admin", "bootstrap")}
        for code, name, kind in (
            (SENDER, "Kantor Imigrasi Kelas II TPI Dumai", "IMMIGRATION"),
            (RECIPIENT, "Polres Dumai", "POLICE"),
        ):
            sinergi(env, "admin", "create-agency", code, "--name", name, "--kind", kind)
            keys[code] = sinergi(env, "admin", "issue-key", code)
        step("bootstrapped ADMIN and registered two agencies with their keys")

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "sinergi"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
        )
        wait_until_ready(base_url, server)
        step(f"sinergi serve is ready at {base_url}")

        integrator_path(base_url, keys, report_from(args.spec))
        step("OK: token, report submitted, report in the recipient's inbox")
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
