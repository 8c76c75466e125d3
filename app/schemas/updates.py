"""What every PATCH body shares: a field left out keeps its value, null only clears a nullable one.

In a partial update, "absent" and ``null`` mean different things. A field declared
``Omittable[X]`` may be left out but never sent as ``null`` (422 naming the field): the OpenAPI
schema shows it as plain ``X`` without a default. A field declared ``X | None`` accepts ``null``,
which clears the stored value; its description says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

T = TypeVar("T")


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError(
            "null_not_allowed", "This field cannot be null; leave it out to keep its current value"
        )
    return value


if TYPE_CHECKING:
    #: To the type checker an unsent field is ``None``.
    Omittable = Annotated[T | None, "omittable"]
else:
    #: A PATCH field that may be left out (``None`` in Python then) but never sent as ``null``:
    #: validated as plain ``T`` (so errors name the field, not a union branch). The default
    #: ``None`` is never validated and never shown in the schema (``PartialUpdate``).
    Omittable = Annotated[T, BeforeValidator(_not_null)]


def _admits_null(schema: JsonSchemaValue) -> bool:
    if schema.get("type") == "null":
        return True
    return any(_admits_null(member) for member in schema.get("anyOf", ()))


class PartialUpdate(BaseModel):
    """Base of PATCH bodies: unknown fields refused;
    ``changes()`` are the fields the caller sent."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # An Omittable field's Python default (None) is no JSON value it accepts: do not show it.
        schema = handler.resolve_ref_schema(handler(core_schema))
        for prop in schema.get("properties", {}).values():
            if "default" in prop and prop["default"] is None and not _admits_null(prop):
                del prop["default"]
        return schema

    def changes(self) -> dict[str, Any]:
        """The fields present in the request, with their values (models left as models)."""
        return {name: getattr(self, name) for name in self.model_fields_set}
