"""The skills tests' IR fixture folder and the IR documents, folders and ZIPs they build."""

import copy
import io
import zipfile
from pathlib import Path

import httpx
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
SKILL_FOLDER = FIXTURES / "incident-postmortem"


def fixture_ir() -> dict:
    return yaml.safe_load((SKILL_FOLDER / "skill.yaml").read_text())


def minimal_ir(skill_id: str = "prd-review", **changes) -> dict:
    document = {
        "ir_version": 1,
        "id": skill_id,
        "name": "PRD Review",
        "version": "1.0.0",
        "description": "Reviews a product requirements document.",
        "instructions": "You review PRDs.",
    }
    document.update(changes)
    return document


def write_skill(folder: Path, document: dict, files: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "skill.yaml").write_text(yaml.safe_dump(copy.deepcopy(document)))
    for path, content in (files or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)
    return folder


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def gpt_edited_in_chatgpt(sandbox, gpt_id: str, body: dict | None = None) -> None:
    """Change a published GPT behind Claresia's back, over the sandbox's HTTP controls, as
    ChatGPT's admin would (the instructions, unless `body` says otherwise)."""
    base = sandbox.api_base.removesuffix("/v1")
    httpx.patch(
        f"{base}/_sandbox/gpts/org-dainese/{gpt_id}", json=body or {"instructions": "Be brief."}
    ).raise_for_status()
