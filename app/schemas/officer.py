"""Officers and their sessions as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.vocab.enums import OfficerRole

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"


class SignInRequest(BaseModel):
    """Sign in with a password (and a TOTP or recovery code once enrolled), or a setup code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "198503122010121001",
                    "password": "tiga kata acak dan kopi",
                    "totp_code": "492039",
                }
            ]
        },
    )

    username: str = Field(min_length=1, max_length=64, description="Often the NIP.")
    password: str | None = Field(default=None, min_length=1, max_length=256)
    totp_code: str | None = Field(
        default=None, max_length=10, description="The 6-digit code of the authenticator app."
    )
    recovery_code: str | None = Field(
        default=None, max_length=32, description="A one-time recovery code instead of a TOTP code."
    )
    setup_code: str | None = Field(
        default=None,
        max_length=32,
        description="The one-time code of a new or reset account, instead of a password.",
    )

    @model_validator(mode="after")
    def _one_secret(self) -> Self:
        if (self.password is None) == (self.setup_code is None):
            raise ValueError("give either a password or a setup code")
        return self


class OfficerBrief(BaseModel):
    id: uuid.UUID
    username: str = Field(examples=["198503122010121001"])
    full_name: str
    role: OfficerRole
    agency_code: str = Field(examples=["IMIGRASI-DUMAI"])


class SessionInfo(BaseModel):
    """Who is signed in, what is still to do, and the CSRF token for state-changing requests."""

    officer: OfficerBrief
    stage: Literal["setup", "active"] = Field(
        description="`setup`: only the setup (password, TOTP) may be done until it is finished."
    )
    needs: list[Literal["password", "totp"]] = Field(
        description="What the officer must still do: choose a password, enrol TOTP."
    )
    csrf_token: str = Field(
        description="Send as `X-CSRF-Token` (or form field `csrf_token`) with every POST, PUT, "
        "PATCH and DELETE made with the session cookie."
    )
    expires_at: datetime = Field(description="The absolute end of the session.")
    idle_expires_at: datetime = Field(description="When it ends unless used before.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "current_password": "tiga kata acak dan kopi",
                    "new_password": "hujan di dumai sore",
                }
            ]
        },
    )

    current_password: str | None = Field(
        default=None, max_length=256, description="Not asked while finishing a setup."
    )
    new_password: str = Field(
        max_length=256,
        description="At least 12 characters, no composition rules; common passwords are refused.",
    )


class TotpEnrolment(BaseModel):
    """Add the account to an authenticator app (scan the QR code), then confirm a code."""

    secret: str = Field(description="Base32 secret, for typing in by hand.")
    otpauth_uri: str
    qr_svg_data_uri: str = Field(description="The QR code as an SVG `data:` URI.")


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "492039"}]})

    code: str = Field(min_length=6, max_length=10)


class TotpConfirmed(BaseModel):
    recovery_codes: list[str] = Field(
        description="One-time codes for when the phone is lost: shown once, keep them safe."
    )
    session: SessionInfo


class SessionsEnded(BaseModel):
    ended: int = Field(description="How many sessions were open, this one included.")


class OfficerCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "198503122010121001",
                    "full_name": "Siti Rahmawati",
                    "nip": "198503122010121001",
                    "email": "siti.rahmawati@example.go.id",
                    "role": "OFFICER",
                }
            ]
        },
    )

    username: str = Field(
        pattern=USERNAME_PATTERN,
        description="3 to 64 letters, digits, `.`, `_`, `-`; case-insensitive. Often the NIP.",
    )
    full_name: str = Field(min_length=1, max_length=200)
    nip: str | None = Field(
        default=None,
        pattern=r"^\d{18}$",
        description="*Nomor Induk Pegawai*, the 18-digit civil-servant number.",
    )
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: OfficerRole = OfficerRole.OFFICER


class OfficerRead(BaseModel):
    id: uuid.UUID
    agency_code: str
    username: str
    full_name: str
    nip: str | None
    email: str | None
    role: OfficerRole
    active: bool
    totp_enabled: bool
    setup_pending: bool = Field(description="A setup code was given and not used yet.")
    locked_until: datetime | None = Field(description="Locked after failed sign-ins until then.")
    last_sign_in_at: datetime | None
    created_at: datetime


class OfficerList(BaseModel):
    items: list[OfficerRead]


class SetupCodeIssued(BaseModel):
    """The one-time setup code: give it to the officer by a separate channel; shown once."""

    officer: OfficerRead
    setup_code: str = Field(examples=["K7QM-2XPA-9RTE-W4HN"])
    setup_code_expires_at: datetime
