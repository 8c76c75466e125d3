"""Settings read from the environment (prefix ``SINERGI_``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Secrets used only when ``SINERGI_ENV=development`` (demo, laptop); refused elsewhere.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production-0000"  # noqa: S105


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the service; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="SINERGI_", env_file=None, extra="ignore")

    env: Environment = Environment.PRODUCTION
    database_url: str = "sqlite+aiosqlite:///./sinergi.db"
    #: Connections kept open: enough for a loaded process's concurrent requests, since a
    #: connection beyond the pool is closed when returned and opened again for the next one.
    #: 40 covers 32 concurrent requests plus the group commits' own connections (at 20, 32
    #: readers opened a connection every 8 to 30 reads); the pool opens them only as needed.
    database_pool_size: int = Field(default=40, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    database_echo: bool = False
    #: Test each pooled PostgreSQL connection with a round trip before every use.
    database_pre_ping: bool = False
    #: A request that wrote nothing commits its audit event together with concurrent ones.
    audit_group_commit: bool = True
    #: Concurrent report submissions and corrections share one transaction and one COMMIT.
    ingest_group_commit: bool = True

    #: Keyed hash of API keys (HMAC-SHA256); also derives other server-side MACs.
    secret_key: str = ""
    #: Encrypts the service's private signing keys at rest.
    key_encryption_key: str = ""
    #: During a rotation, the values being replaced: still accepted to verify API keys (each is
    #: re-hashed under the new secret when next used) and to decrypt, until
    #: ``sinergi admin rotate-secrets`` reports the rotation complete. Empty otherwise.
    previous_secret_key: str = ""
    previous_key_encryption_key: str = ""

    issuer: str = "https://sinergi.local"
    audience: str = "sinergi-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    token_signing_algorithm: str = Field(default="ES256", pattern="^(ES256|RS256)$")
    api_key_rotation_grace_hours: int = Field(default=24, ge=0, le=24 * 30)
    #: The admin console warns about an active API key expiring within this many days.
    api_key_expiry_warning_days: int = Field(default=14, ge=0, le=365)

    #: Person resolution: link at or above, record a possible match at or above the review floor.
    match_link_threshold: float = Field(default=0.90, gt=0, le=1)
    match_review_threshold: float = Field(default=0.5, gt=0, le=1)
    #: A person matching a second stored entity at or above this merges the two (undoable).
    match_merge_threshold: float = Field(default=0.99, gt=0, le=1)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_page_size: int = Field(default=200, ge=1, le=1000)

    webhook_allow_http: bool = False
    webhook_allowed_networks: str = ""
    #: Seconds a receiver has to answer one webhook POST (connect, write and read).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: How long the previous secret keeps signing after ``rotate-secret``.
    webhook_secret_overlap_hours: int = Field(default=24, ge=0, le=24 * 30)

    #: A worker's claim on a delivery; a crashed worker's claims are taken over after it.
    worker_lease_seconds: int = Field(default=60, ge=2, le=3600)
    #: Pause between polls when no delivery is due.
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    #: Deliveries one worker claims at a time (sent concurrently).
    worker_batch_size: int = Field(default=20, ge=1, le=500)

    #: How far in the future (sender clock ahead, time zones) a report's ``reported_at``,
    #: ``occurred_to`` and event dates may lie; anything later is refused with 422.
    report_clock_skew_hours: float = Field(default=24, ge=0, le=24 * 7)

    #: Screening: at most this many hits per screened person, best first.
    screening_max_hits: int = Field(default=20, ge=1, le=200)
    #: Whether a screening hit on a RED or AMBER_STRICT report the caller may not read is
    #: answered as "contact agency X" (and nothing else); when false such hits are left out.
    screening_reveal_red: bool = False
    #: Watches expire after this many days unless the agency sets ``expires_at`` (at most the max).
    watch_default_days: int = Field(default=365, ge=1, le=3650)
    watch_max_days: int = Field(default=1825, ge=1, le=3650)

    #: Per-agency rate limits: ``burst`` requests at once, ``rate`` per second on average (a
    #: moving window of burst/rate seconds). Admin tokens are exempt.
    rate_limit_enabled: bool = True
    #: Where the windows are kept: ``memory://`` (this process only) or a Redis URL such as
    #: ``redis://127.0.0.1:6379/0`` shared by every API replica, so the budget is one.
    rate_limit_storage_url: str = Field(
        default="memory://", pattern=r"^(memory://|rediss?://.+|redis\+unix://.+)$"
    )
    rate_limit_ingest_rate: float = Field(default=20.0, gt=0)
    rate_limit_ingest_burst: int = Field(default=200, ge=1)
    rate_limit_reads_rate: float = Field(default=50.0, gt=0)
    rate_limit_reads_burst: int = Field(default=500, ge=1)
    rate_limit_screening_rate: float = Field(default=10.0, gt=0)
    rate_limit_screening_burst: int = Field(default=100, ge=1)

    #: Non-admin statistics show a count from 1 up to this value minus one as suppressed
    #: (null), so that small counts do not point at individual victims.
    stats_suppression_threshold: int = Field(default=5, ge=1, le=1000)
    #: The longest period one statistics request may cover (5 years).
    stats_max_period_days: int = Field(default=1827, ge=1, le=36600)
    #: The local time statistics use for periods and months: WIB +07:00 (WITA +08:00, WIT +09:00).
    stats_utc_offset: str = Field(default="+07:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")

    log_level: str = "INFO"
    #: ``json`` (one object per line, for log collectors) or ``text`` (one readable line);
    #: the server and the worker write the same format.
    log_format: Literal["json", "text"] = "json"

    #: On SIGTERM, ``serve`` stops accepting connections and gives in-flight requests this
    #: long to finish before cancelling them; ``worker`` finishes its round within it.
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    #: Days person data of a closed or retracted report is kept before ``sinergi retention run``
    #: removes it (statistics, case structure and the audit trail stay).
    retention_person_data_days: int = Field(default=730, ge=1, le=36500)
    #: How often `sinergi worker` runs the retention purge (0: never; run `sinergi retention run`).
    retention_interval_hours: float = Field(default=24, ge=0, le=24 * 365)
    #: How often `sinergi worker` runs the recluster pass over every stored person, merging
    #: entities online resolution left apart (0: never; run `sinergi dedup recluster`).
    recluster_interval_hours: float = Field(default=24, ge=0, le=24 * 365)
    #: `sinergi worker` counts the store's term frequencies (`sinergi dedup calibrate
    #: --terms-only`) once it holds 1,000 resolved persons and none are counted, then again
    #: whenever it has grown this many times over since the last count (0: never; run the
    #: command). The m/u weights in use are kept.
    term_recount_growth: float = Field(default=2.0, ge=0, le=1000)
    #: `sinergi worker` calibrates the store's weights itself (`sinergi dedup calibrate
    #: --shipped-u`: m and the term counts) once it holds 1,000 resolved persons and 2,000
    #: candidate pairs, then again whenever it has grown this many times over since, and right
    #: after runs a full recluster pass under the new weights. Never over an operator's own
    #: calibration (0: never; run the command).
    calibration_growth: float = Field(default=2.0, ge=0, le=1000)
    #: How often `sinergi worker` checks whether a calibration or a term recount is due (one
    #: count of the persons).
    term_check_interval_minutes: float = Field(default=10, gt=0, le=24 * 60)
    #: Days audit events are kept; 0 keeps them for ever. The purge leaves a checkpoint event.
    audit_retention_days: int = Field(default=0, ge=0, le=36500)

    #: Officers (people who sign in, docs/officers.md). Sessions end after this long without a
    #: request (idle) and after this long in any case (absolute).
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: float = Field(default=12, gt=0, le=24 * 7)
    #: Require a TOTP second factor of every officer (admin roles always need one).
    officer_totp_required: bool = False
    #: How long the one-time setup code of a new or reset account works.
    officer_setup_code_hours: int = Field(default=72, ge=1, le=24 * 30)
    #: Failed sign-ins in a row after which an account is locked, and for how long.
    officer_lockout_failures: int = Field(default=10, ge=1, le=1000)
    officer_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    #: Failed sign-ins (per typed username, and per client address x5) after which further
    #: attempts are slowed: each must wait ``base * 2^(n - after)`` seconds (at most 5 minutes).
    officer_throttle_after_failures: int = Field(default=3, ge=1, le=1000)
    officer_throttle_base_seconds: float = Field(default=1.0, ge=0, le=60)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.env is Environment.DEVELOPMENT:
            if not self.secret_key:
                self.secret_key = DEVELOPMENT_SECRET
            if not self.key_encryption_key:
                self.key_encryption_key = DEVELOPMENT_SECRET
            return self
        for name in ("secret_key", "key_encryption_key"):
            value: str = getattr(self, name)
            if not value or value == DEVELOPMENT_SECRET:
                raise ValueError(
                    f"SINERGI_{name.upper()} must be set to a secret of your own "
                    "(at least 32 characters) unless SINERGI_ENV=development"
                )
            if len(value) < 32:
                raise ValueError(f"SINERGI_{name.upper()} must be at least 32 characters long")
        for name in ("previous_secret_key", "previous_key_encryption_key"):
            previous: str = getattr(self, name)
            if previous and len(previous) < 32:
                raise ValueError(f"SINERGI_{name.upper()} must be at least 32 characters long")
        return self

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> Settings:
        if self.worker_lease_seconds <= self.webhook_timeout_seconds * 2:
            raise ValueError(
                "SINERGI_WORKER_LEASE_SECONDS must exceed twice SINERGI_WEBHOOK_TIMEOUT_SECONDS, "
                "or a slow send could be taken over by another worker"
            )
        return self

    @model_validator(mode="after")
    def _growth_grows(self) -> Settings:
        if 0 < self.term_recount_growth <= 1:
            raise ValueError(
                "SINERGI_TERM_RECOUNT_GROWTH must be 0 (never recount) or more than 1 (the "
                "store grown that many times over since the last count)"
            )
        if 0 < self.calibration_growth <= 1:
            raise ValueError(
                "SINERGI_CALIBRATION_GROWTH must be 0 (never calibrate) or more than 1 (the "
                "store grown that many times over since the worker's last calibration)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
