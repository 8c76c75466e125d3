"""ORM models, one module per aggregate; importing this package registers them all."""

from app.models.agency import Agency
from app.models.audit import AuditEvent
from app.models.base import Base

__all__ = ["Agency", "AuditEvent", "Base"]
