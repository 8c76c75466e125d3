"""ORM models, one module per aggregate; importing this package registers them all."""

from app.models.agency import Agency
from app.models.base import Base
from app.models.credentials import AgencyPublicKey, ApiKey, SigningKey, UsedClientAssertion

__all__ = [
    "Agency",
    "AgencyPublicKey",
    "ApiKey",
    "Base",
    "SigningKey",
    "UsedClientAssertion",
]
