"""Agencies and their credentials as the admin API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from app.schemas.audit import AuditObjects
from app.schemas.report import ShortText, readable_phone
from app.schemas.updates import Omittable, PartialUpdate
from app.schemas.vocab import RegionCode
from app.vocab.enums import AgencyKind, Scope

AGENCY_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{1,63}$"


class Contact(BaseModel):
    """Who to call at the agency; each part may be null (unknown)."""

    model_config = ConfigDict(extra="forbid")

    name: ShortText | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(
        default=None,
        max_length=32,
        description="Any usual form (0812…, +62 812…); Indonesia is assumed.",
    )

    _phone = field_validator("phone")(readable_phone)


class AgencyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "IMIGRASI-DUMAI",
                    "name": "Kantor Imigrasi Kelas II TPI Dumai",
                    "kind": "IMMIGRATION",
                    "region_code": "14.72",
                    "contact": {"name": "Seksi Inteldakim", "email": "inteldakim@example.go.id"},
                }
            ]
        },
    )

    code: str = Field(
        pattern=AGENCY_CODE_PATTERN,
        description=(
            "The agency's code and OAuth `client_id`: upper-case letters, digits, `-`, `_`."
        ),
    )
    name: ShortText
    kind: AgencyKind
    region_code: RegionCode | None = Field(
        default=None,
        description=(
            "Kemendagri region code (*kode wilayah*) of the agency's area, e.g. `14.72` Kota Dumai."
        ),
    )
    contact: Contact | None = None
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        description=(
            "Scopes the agency's tokens may carry; by default (null or left out) every member "
            "scope (not `admin`)."
        ),
    )


class AgencyUpdate(PartialUpdate):
    """The fields to change;
    a field left out keeps its value. Only `region_code` and `contact` may be null (cleared)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Kanim Dumai", "region_code": "14.72"},
                {
                    "kind": "IMMIGRATION",
                    "contact": {
                        "name": "Seksi Inteldakim",
                        "email": "inteldakim@example.go.id",
                        "phone": "(0765) 438 111",
                    },
                },
                {"scopes": ["reports:read", "inbox:read", "screening:query"], "active": True},
            ]
        },
    )

    name: Omittable[ShortText] = None
    kind: Omittable[AgencyKind] = None
    region_code: RegionCode | None = Field(
        default=None, description="Kemendagri region code; null clears it (no region)."
    )
    contact: Contact | None = Field(
        default=None, description="Replaces the whole contact; null clears it."
    )
    scopes: Omittable[Annotated[list[Scope], Field(min_length=1)]] = None
    active: Omittable[StrictBool] = Field(
        default=None, description="Set `true` to reactivate an agency."
    )


class AgencyRead(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("agency", "code"), ("agency", "id"))
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    kind: AgencyKind
    region_code: str | None
    contact: Contact | None
    scopes: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class AgencyPage(BaseModel):
    items: list[AgencyRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class ApiKeyIssue(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"expires_in_days": 365}]}
    )

    expires_in_days: StrictInt | None = Field(
        default=None, ge=1, le=3650, description="Days until the key expires; never when omitted."
    )


class ApiKeyRotate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"grace_hours": 24}]})

    grace_hours: StrictInt | None = Field(
        default=None,
        ge=0,
        le=24 * 30,
        description=(
            "Hours the old key keeps working (default `SINERGI_API_KEY_ROTATION_GRACE_HOURS`, 24)."
        ),
    )


class ApiKeyRead(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("key", "id"),)
    id: uuid.UUID
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    status: str = Field(description="`active`, `expired` or `revoked`.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="When the key last obtained a token.")
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyRead):
    key: str = Field(
        description=(
            "The API key. Shown this once only: store it in the agency system's secret store."
        )
    )


class PublicKeyRegister(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "jwk": {
                        "kty": "EC",
                        "crv": "P-256",
                        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                        "kid": "imigrasi-dumai-2026",
                    }
                }
            ]
        },
    )

    jwk: dict[str, Any] = Field(
        description=(
            "A public JWK: EC P-256 (ES256) or RSA ≥ 2048 bits (RS256); `kid` optional (RFC 7638 "
            "thumbprint by default)."
        )
    )


class PublicKeyRead(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("key", "id"),)
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kid: str
    algorithm: str
    jwk: dict[str, Any]
    thumbprint: str = Field(
        description="RFC 7638 JWK thumbprint (SHA-256, base64url): compare it with the agency's.",
        examples=["NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"],
    )
    created_at: datetime
    revoked_at: datetime | None


class SigningKeyRead(BaseModel):
    audit_objects: ClassVar[AuditObjects] = (("signing_key", "kid"),)
    model_config = ConfigDict(from_attributes=True)

    kid: str
    algorithm: str
    state: str = Field(description="`next` (published, not signing yet), `current` or `retired`.")
    created_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
