"""Agent Skills `SKILL.md` folder → Skill IR: the import side of the plugin target's mapping
(`skill-ir.md`; the export side is `skills.targets.plugin.build`). It lives with the IR's readers
so that
`skills.ir` never reaches up to a target module; both sides share the metadata keys below.

Pure: no database, no HTTP, no file, no clock; values are bounded by `skills.ir.documents`.
"""

import re

from skills.ir.documents import DocumentError, InvalidSyntax, load_json
from skills.rules import PLUGIN_HUB_CALL, claresia_rules

KNOWLEDGE_DIRS = ("references", "assets")
DEFAULT_VERSION = "1.0.0"
# Front matter `metadata` keys; values are strings (JSON for lists), as the format requires.
META_VERSION = "version"
META_IR_VERSION = "claresia-ir-version"
META_NAME = "claresia-name"
META_DESCRIPTION = "claresia-description"
META_PARAMETERS = "claresia-parameters"
META_KNOWLEDGE = "claresia-knowledge"
META_MODEL = "claresia-model"
META_OWNER = "claresia-owner"


def knowledge_location(path: str) -> str:
    """Where a knowledge file sits in the skill folder: under `references/` unless the IR
    already places it under `references/` or `assets/`."""
    return path if path.split("/", 1)[0] in KNOWLEDGE_DIRS else f"references/{path}"


def _title(slug: str) -> str:
    return " ".join(word.capitalize() for word in re.split(r"[-_\s]+", slug) if word)


def _json_list(metadata: dict, key: str) -> list:
    """A metadata list written as JSON; [] when it is not one (a hand edit). A value over the
    bounds of a skill document raises DocumentError, naming the key."""
    text = metadata.get(key)
    if not isinstance(text, str):
        return []
    try:
        value = load_json(text)
    except InvalidSyntax:
        return []
    except DocumentError as exc:
        raise DocumentError(f"metadata.{key}: {exc}") from None
    return value if isinstance(value, list) else []


def ir_from_skill_md(front: dict, body: str, paths: list[str]) -> tuple[dict, dict[str, str]]:
    """The IR of a SKILL.md (front matter, body) and {IR knowledge path: path in the folder}.

    A folder Claresia exported comes back whole: its metadata restores what the front matter
    has no field for, and the rules section is cut from the body only when it is exactly the one
    this IR would get (otherwise the body, edited by hand, stays the instructions)."""
    slug = str(front.get("name") or "")
    raw = front.get("metadata")
    metadata = {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    document = {
        "ir_version": 1,
        "id": slug,
        "name": str(metadata.get(META_NAME) or _title(slug)[:60]),
        "version": str(front.get("version") or metadata.get(META_VERSION) or DEFAULT_VERSION),
        "description": str(metadata.get(META_DESCRIPTION) or front.get("description") or ""),
        "instructions": body.strip(),
    }
    for key, meta in ((META_MODEL, "model"), (META_OWNER, "owner")):
        if metadata.get(key):
            document[meta] = str(metadata[key])
    parameters = _json_list(metadata, META_PARAMETERS)
    if parameters:
        document["parameters"] = parameters
    locations: dict[str, str] = {}
    if META_KNOWLEDGE in metadata:
        document["knowledge"] = _json_list(metadata, META_KNOWLEDGE)
        for item in document["knowledge"]:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                locations[item["path"]] = knowledge_location(item["path"])
    else:
        document["knowledge"] = [
            {"path": path} for path in sorted(paths) if path.split("/", 1)[0] in KNOWLEDGE_DIRS
        ]
    if META_IR_VERSION in metadata:
        suffix = "\n\n" + claresia_rules(
            {**document, "parameters": parameters}, hub_call=PLUGIN_HUB_CALL
        )
        if body.endswith(suffix):
            document["instructions"] = body[: -len(suffix)]
    return document, locations
