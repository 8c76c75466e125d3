"""RFC 9457 problem details, as every error of the API is answered."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    """One field's problem."""

    location: str = Field(description="Where the field is: body, query, path or header.")
    pointer: str = Field(description="JSON Pointer (RFC 6901) to the field inside its location.")
    detail: str = Field(description="What is wrong, in English.")
    code: str = Field(description="A stable machine-readable code for the problem.")


class Problem(BaseModel):
    """An error response (``application/problem+json``, RFC 9457)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:sinergi:problem:validation-error",
                    "title": "The request is not valid",
                    "status": 422,
                    "detail": "Invalid fields: /persons/0/nik",
                    "instance": "/v1/reports",
                    "errors": [
                        {
                            "location": "body",
                            "pointer": "/persons/0/nik",
                            "detail": "NIK must be 16 digits",
                            "code": "nik_format",
                        }
                    ],
                }
            ]
        },
    )

    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code, repeated.")
    detail: str = Field(description="What went wrong for this request.")
    instance: str | None = Field(
        default=None, description="The request path this problem occurred at (RFC 9457)."
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Field problems, one per field, when the request had any."
    )
