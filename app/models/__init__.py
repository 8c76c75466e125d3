"""ORM models, one module per aggregate; importing this package registers them all."""

from app.models.agency import Agency
from app.models.audit import AuditEvent, AuditPending
from app.models.base import Base
from app.models.credentials import AgencyPublicKey, ApiKey, SigningKey, UsedClientAssertion
from app.models.delivery import Delivery, DeliveryAttempt, DeliverySequence, WebhookEndpoint
from app.models.officer import Officer, OfficerSession
from app.models.report import (
    IdempotencyRecord,
    Report,
    ReportFacet,
    ReportModus,
    ReportPerson,
    ReportRecipient,
    ReportVersion,
)
from app.models.resolution import (
    Case,
    CaseLink,
    PersonEntity,
    PersonKey,
    PossibleMatch,
    ReclusterPass,
    ResolutionAction,
)
from app.models.routing import RoutingRule
from app.models.secrets import SecretCanary
from app.models.watch import Watch, WatchHit, WatchKey

__all__ = [
    "Agency",
    "AgencyPublicKey",
    "ApiKey",
    "AuditEvent",
    "AuditPending",
    "Base",
    "Case",
    "CaseLink",
    "Delivery",
    "DeliveryAttempt",
    "DeliverySequence",
    "IdempotencyRecord",
    "Officer",
    "OfficerSession",
    "PersonEntity",
    "PersonKey",
    "PossibleMatch",
    "ReclusterPass",
    "Report",
    "ReportFacet",
    "ReportModus",
    "ReportPerson",
    "ReportRecipient",
    "ReportVersion",
    "ResolutionAction",
    "RoutingRule",
    "SecretCanary",
    "SigningKey",
    "UsedClientAssertion",
    "Watch",
    "WatchHit",
    "WatchKey",
    "WebhookEndpoint",
]
