"""ORM models, one module per aggregate; importing this package registers them all."""

from app.models.agency import Agency
from app.models.base import Base
from app.models.delivery import Delivery, DeliveryAttempt, DeliverySequence, WebhookEndpoint
from app.models.routing import RoutingRule

__all__ = [
    "Agency",
    "Base",
    "Delivery",
    "DeliveryAttempt",
    "DeliverySequence",
    "RoutingRule",
    "WebhookEndpoint",
]
