"""ORM models, one module per aggregate; importing this package registers them all."""

from app.models.agency import Agency
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.credentials import AgencyPublicKey, ApiKey, SigningKey, UsedClientAssertion
from app.models.delivery import Delivery, DeliveryAttempt, DeliverySequence, WebhookEndpoint
from app.models.routing import RoutingRule

__all__ = [
    "Agency",
    "AgencyPublicKey",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Delivery",
    "DeliveryAttempt",
    "DeliverySequence",
    "RoutingRule",
    "SigningKey",
    "UsedClientAssertion",
    "WebhookEndpoint",
]
