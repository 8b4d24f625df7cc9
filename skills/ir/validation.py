"""Validate a Skill IR document against the shipped JSON Schema, plus the rules a schema cannot
say (unique names, `enum` needs choices, a default of the right type). Every problem is listed
with its path, as `skill-ir.md` asks: `parameters[2].type: must be one of …`.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

SCHEMA_PATH = Path(__file__).with_name("skill-ir-v1.schema.json")


@cache
def ir_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(ir_schema())


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _describe(error: SchemaError) -> str:
    validator, value = error.validator, error.validator_value
    if validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)}"
    if validator == "required":
        missing = [key for key in value if key not in error.instance]
        return f"missing required key{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    if validator == "enum":
        return "must be one of " + ", ".join(str(v) for v in value)
    if validator == "const":
        return f"must be {value!r}"
    if validator == "type":
        kinds = value if isinstance(value, list) else [value]
        return "must be " + " or ".join(
            {"object": "a mapping", "array": "a list"}.get(k, f"a {k}") for k in kinds
        )
    if validator == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {value} characters"
    if validator == "maxLength":
        return f"must be at most {value} characters (is {len(error.instance)})"
    if validator == "maxItems":
        return f"at most {value} items (has {len(error.instance)})"
    if validator == "minItems":
        return f"at least {value} item{'s' if value > 1 else ''}"
    if validator == "pattern":
        return f"{error.instance!r} does not match {value}"
    if validator == "not":
        return f"{error.instance!r} uses the reserved prefix claresia_"
    return error.message


def _semantic_errors(document: dict) -> list[tuple[list, str]]:
    errors: list[tuple[list, str]] = []
    seen: set[str] = set()
    for index, parameter in enumerate(document.get("parameters") or []):
        if not isinstance(parameter, dict):
            continue
        name, kind = parameter.get("name"), parameter.get("type")
        if name in seen:
            errors.append((["parameters", index, "name"], f"duplicate parameter {name!r}"))
        seen.add(name)
        choices = parameter.get("choices")
        if kind == "enum" and not choices:
            errors.append((["parameters", index, "choices"], "an enum parameter needs choices"))
        if kind != "enum" and choices is not None:
            errors.append((["parameters", index, "choices"], "only enum parameters take choices"))
        if (
            "default" in parameter
            and kind == "enum"
            and choices
            and parameter["default"] not in choices
        ):
            errors.append((["parameters", index, "default"], "must be one of the choices"))
    for key, field in (("tools", "name"), ("knowledge", "path"), ("archetypes", None)):
        seen = set()
        for index, item in enumerate(document.get(key) or []):
            value = item.get(field) if field and isinstance(item, dict) else item
            if isinstance(value, str) and value in seen:
                where = [key, index, field] if field else [key, index]
                errors.append((where, f"duplicate {value!r}"))
            seen.add(value)
    return errors


def ir_validate(document: Any) -> list[str]:
    """Every problem of `document` as `path: message`, sorted by path; [] when it is valid."""
    if not isinstance(document, dict):
        return ["(document): must be a mapping of IR fields"]
    found = [
        (list(error.absolute_path), _describe(error))
        for error in _validator().iter_errors(document)
    ]
    if not found:
        found = _semantic_errors(document)

    def key(item):
        return [(0, p, "") if isinstance(p, int) else (1, 0, p) for p in item[0]], item[1]

    return [f"{_path(path)}: {message}" for path, message in sorted(found, key=key)]


def ir_normalized(document: dict) -> dict:
    """The document with defaults filled in, so that equal skills give equal bundles."""
    normalized = {key: document[key] for key in sorted(document)}
    normalized["parameters"] = [
        {"required": True, **parameter} for parameter in document.get("parameters") or []
    ]
    for key in ("conversation_starters", "tools", "knowledge", "archetypes"):
        normalized[key] = list(document.get(key) or [])
    return normalized
