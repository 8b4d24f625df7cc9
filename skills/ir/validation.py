"""Validate a Skill IR document against the shipped JSON Schema, plus the rules a schema cannot
say (unique names, `enum` needs choices, a default of the right type; every value JSON, every
text free of control characters and bounded). Every problem is listed with its path, as
`skill-ir.md` asks: `parameters[2].type: must be one of …`.
"""

import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError as SchemaError

SCHEMA_PATH = Path(__file__).with_name("skill-ir-v1.schema.json")
# Any text the schema does not bound more tightly (inside a tool's parameters): the bound of
# `instructions`, the longest field.
TEXT_LIMIT = 100_000
# NUL (which PostgreSQL cannot store), the other C0 and C1 controls and DEL; tab, line feed and
# carriage return are text. Then the halves of surrogate pairs, which are not characters at all.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
LINE_BREAK = re.compile(r"[\t\n\r]")
# Fields shown or used on one line (the footer, ids, a form's labels, URLs).
ONE_LINE = {
    ("id",),
    ("name",),
    ("version",),
    ("model",),
    ("owner",),
    ("parameters", int, "name"),
    ("parameters", int, "label"),
    ("parameters", int, "choices", int),
    ("tools", int, "name"),
    ("tools", int, "http", "url"),
    ("knowledge", int, "path"),
    ("archetypes", int),
}


@cache
def ir_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _bounded_pattern(validator, pattern, instance, schema):
    """`pattern`, not matched against text over its field's `maxLength`: that is a problem
    already, and a pattern such as the e-mail's backtracks quadratically on long text."""
    if isinstance(instance, str) and len(instance) > schema.get("maxLength", TEXT_LIMIT):
        return
    yield from Draft202012Validator.VALIDATORS["pattern"](validator, pattern, instance, schema)


BoundedValidator = validators.extend(Draft202012Validator, {"pattern": _bounded_pattern})


@cache
def _validator() -> Draft202012Validator:
    return BoundedValidator(ir_schema())


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _cut(text: str, limit: int = 60) -> str:
    """A problem names a value, not all of it."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _shown(value: Any, limit: int = 60) -> str:
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value):,} characters)"
    return repr(value)


def _text_problem(text: str) -> str | None:
    if control := CONTROL.search(text):
        return (
            f"contains the control character U+{ord(control.group()):04X} at position "
            f"{control.start() + 1}; only tabs and line breaks are accepted"
        )
    if surrogate := SURROGATE.search(text):
        return (
            f"contains U+{ord(surrogate.group()):04X} at position {surrogate.start() + 1}, "
            "half of a surrogate pair: not valid text"
        )
    return None


def _one_line(parts: list) -> bool:
    shape = tuple(int if isinstance(part, int) else part for part in parts)
    return shape in ONE_LINE


TOO_LONG = f"must be at most {TEXT_LIMIT:,} characters"


def _value_problems(document: dict) -> list[tuple[list, str]]:
    """What no JSON column or text field can hold, anywhere in the document, by path: keys that
    are not text, numbers that are not finite, control characters, text over TEXT_LIMIT, and a
    line break in a one-line field. A loaded document is bounded (skills.ir.documents)."""
    problems: list[tuple[list, str]] = []
    pending: list[tuple[list, Any]] = [([], document)]
    while pending:
        parts, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append((parts, f"the key {_shown(key)} is not text; quote it"))
                elif problem := _text_problem(key):
                    problems.append((parts, f"the key {_shown(key)} {problem}"))
                else:
                    pending.append(([*parts, key], item))
        elif isinstance(value, list):
            pending.extend(([*parts, index], item) for index, item in enumerate(value))
        elif isinstance(value, str):
            if problem := _text_problem(value):
                problems.append((parts, problem))
            elif len(value) > TEXT_LIMIT:
                problems.append((parts, TOO_LONG))
            elif _one_line(parts) and LINE_BREAK.search(value):
                problems.append((parts, "must be one line (it contains a line break or tab)"))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append((parts, "must be a finite number"))
        elif value is not None and not isinstance(value, (bool, int, float)):
            problems.append((parts, f"is not a JSON value ({type(value).__name__})"))
    return problems


def _at(document: Any, path: list) -> Any:
    for part in path:
        document = document[part]
    return document


def _describe(error: SchemaError) -> str:
    validator, value = error.validator, error.validator_value
    if validator == "additionalProperties":
        extra = sorted(
            _cut(str(key))
            for key in error.instance
            if key not in error.schema.get("properties", {})
        )
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
        return f"must be at most {value} characters (is {len(error.instance):,})"
    if validator == "maxItems":
        return f"at most {value} items (has {len(error.instance)})"
    if validator == "minItems":
        return f"at least {value} item{'s' if value > 1 else ''}"
    if validator == "pattern":
        return f"{_pattern_rule(error)} (not {_shown(error.instance)})"
    if validator == "not":
        return (
            f"names starting with claresia_ are kept for Claresia's own tools "
            f"(not {_shown(error.instance)})"
        )
    return error.message


# What a `pattern` asks, in words, per field: a customer's staff reads the rule and an example,
# never the regular expression.
SLUG_RULE = "use lower-case letters, digits and single dashes, like {example}"
PATTERN_RULES = {
    ("id",): SLUG_RULE.format(example="incident-postmortem"),
    ("version",): "use a version like 1.0.0: major.minor.patch, numbers without leading zeros",
    ("parameters", "name"): (
        "start with a lower-case letter, then lower-case letters, digits and _, like severity"
    ),
    ("tools", "name"): "use letters, digits, _ and - only (at most 64), like create_ticket",
    ("tools", "http", "url"): "use an https:// address, like https://api.example.com/tickets",
    ("knowledge", "path"): (
        "use a path inside the skill's folder, like docs/runbook.md: not starting with /, "
        "with no .. and no backslashes"
    ),
    ("archetypes",): SLUG_RULE.format(example="engineering-managers"),
    ("owner",): "use an e-mail address, like ana@example.com",
}


def _pattern_rule(error: SchemaError) -> str:
    field = tuple(part for part in error.absolute_path if not isinstance(part, int))
    return PATTERN_RULES.get(field, "is not in the expected form")


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
    for index, item in enumerate(document.get("knowledge") or []):
        path = item.get("path") if isinstance(item, dict) else None
        # A skill is published as files in a git repository (the plugin marketplace), where git
        # refuses a path part named .git (any case): it would be left out of the tree silently.
        if isinstance(path, str) and any(part.lower() == ".git" for part in path.split("/")):
            errors.append(
                (
                    ["knowledge", index, "path"],
                    f"{path}: a folder or file named .git cannot be published in the plugin's "
                    "git repository; rename it",
                )
            )
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
    values = _value_problems(document)
    schema_errors = list(_validator().iter_errors(document))
    # A value refused above (a NUL, a key that is not text) is not described again by the schema;
    # a too long one is, by its field's own bound where the schema has one.
    too_long = {tuple(e.absolute_path) for e in schema_errors if e.validator == "maxLength"}
    found = []
    for path, message in values:
        if message == TOO_LONG:
            if tuple(path) in too_long:
                continue
            message += f" (is {len(_at(document, path)):,})"
        found.append((path, message))
    refused = {tuple(path) for path, _ in found}
    for error in schema_errors:
        path = tuple(error.absolute_path)
        if path in refused:
            continue
        found.append((list(path), _describe(error)))
    if not found:
        found = _semantic_errors(document)

    def key(item):
        return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in item[0]], item[1]

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
