# Sinergi: one image for the API (`serve`) and the webhook worker (`worker`).
# Untested here: no container engine was available where this file was written. It is linted by
# hadolint in CI and its commands are checked against the CLI by tests/cli/test_compose.py.
#
# Build: docker build -t sinergi .
# Run:   docker run -e SINERGI_DATABASE_URL=postgresql+asyncpg://… -e SINERGI_SECRET_KEY=… \
#          -e SINERGI_KEY_ENCRYPTION_KEY=… -p 8000:8000 sinergi
# Worker: the same image with `worker --metrics-port 9101 --metrics-host 0.0.0.0`.
# Demo:   docker run -p 8000:8000 sinergi serve --demo --host 0.0.0.0
# See compose.yaml for PostgreSQL, the API and a worker together, docs/operations.md for more.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md LICENSE alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir .

FROM python:3.11-slim
# A fixed numeric id, so that volumes and Kubernetes' runAsNonRoot can rely on it.
RUN useradd --create-home --uid 10001 --user-group sinergi
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SINERGI_DATABASE_URL=sqlite+aiosqlite:////home/sinergi/sinergi.db
USER 10001:10001
WORKDIR /home/sinergi
# uvicorn and the worker stop gracefully on SIGTERM (SINERGI_SHUTDOWN_TIMEOUT_SECONDS); the
# ENTRYPOINT is exec-form, so the signal reaches the process itself.
STOPSIGNAL SIGTERM
EXPOSE 8000 9101
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["sinergi"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
