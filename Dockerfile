# Sinergi API (and worker) image. Build: docker build -t sinergi .
# Run: docker run -e SINERGI_DATABASE_URL=postgresql+asyncpg://… -e SINERGI_SECRET_KEY=… \
#        -e SINERGI_KEY_ENCRYPTION_KEY=… -p 8000:8000 sinergi
# Worker: the same image with `worker --metrics-port 9101 --metrics-host 0.0.0.0`.
# Demo:   docker run -p 8000:8000 sinergi serve --demo --host 0.0.0.0
# See compose.yaml for PostgreSQL, the API and a worker together.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 sinergi
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SINERGI_DATABASE_URL=sqlite+aiosqlite:////home/sinergi/sinergi.db
USER sinergi
WORKDIR /home/sinergi
# uvicorn and the worker stop gracefully on SIGTERM (SINERGI_SHUTDOWN_TIMEOUT_SECONDS); the
# ENTRYPOINT is exec-form, so the signal reaches the process itself.
STOPSIGNAL SIGTERM
EXPOSE 8000 9101
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["sinergi"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
