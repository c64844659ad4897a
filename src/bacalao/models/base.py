"""The base of every model: Bacalhau's JSON conventions in pydantic.

Bacalhau's server decodes JSON and YAML with Go's `encoding/json`, which
matches field names case-insensitively and ignores unknown fields. Job specs
written for Bacalhau rely on both, so `WireModel` does the same: keys are
matched to fields ignoring case, and unknown keys are dropped (the API
reports them as warnings instead of failing the submission).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class WireModel(BaseModel):
    """A model whose JSON form is Bacalhau's (PascalCase, case-insensitive)."""

    model_config = ConfigDict(
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        validate_assignment=False,
        allow_inf_nan=False,
    )

    _lower_names: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        names: dict[str, str] = {}
        for name, field in cls.model_fields.items():
            names[name.lower()] = field.alias or name
        cls._lower_names = names

    @model_validator(mode="before")
    @classmethod
    def _match_keys_ignoring_case(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls._lower_names:
            return data
        fixed: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(key, str):
                key = cls._lower_names.get(key.lower(), key)
            fixed[key] = value
        return fixed
