"""The pure cores (ARCHITECTURE.md, Pure core, thin edges): the GPT transpiler and the audit event
normalizer import without Django and do no I/O, at import or when called; every input is an
argument. And every module whose docstring says it is pure ("Pure:", or "as a pure function")
imports without Django and does no I/O at import. Checked in a fresh interpreter with no
DJANGO_SETTINGS_MODULE, watching Python's audit events (file opens, directory listings, sockets,
processes)."""

import ast
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skills.ir.validation import ir_normalized
from tests.skills.helpers import FIXTURES, SKILL_FOLDER, fixture_ir

ROOT = Path(__file__).resolve().parents[2]
CORES = ("skills.targets.custom_gpt.transpiler", "telemetry.ingest.sources.audit_log.normalizer")

# Runs in the fresh interpreter: reads its inputs from stdin, then starts watching.
PROBE = """
import json, sys

inputs = json.load(sys.stdin)
seen = {"import": [], "call": []}
phase = "import"
WATCHED = ("open", "os.listdir", "os.scandir", "socket.", "subprocess.", "os.system", "os.exec")


def watch(event, args):
    if event.startswith(WATCHED):
        seen[phase].append([event, str(args[0]) if args else ""])


sys.addaudithook(watch)

from skills.targets.custom_gpt.transpiler import KnowledgeRef, TenantContext, skill_bundle
from telemetry.ingest.sources.audit_log.normalizer import normalize_audit_event

phase = "call"
bundle = skill_bundle(
    inputs["ir"],
    tenant=TenantContext("dainese", "https://hub.dainese.example", inputs["archetypes"]),
    action_schema=inputs["action_schema"],
    knowledge=[KnowledgeRef(**ref) for ref in inputs["knowledge"]],
)
row = normalize_audit_event(inputs["event"], tenant_slug="dainese", skills={"prd-review": 7})
phase = "done"
print(json.dumps({
    "seen": seen,
    "modules": sorted(sys.modules),
    "bundle_sha256": bundle.sha256,
    "cost_usd": str(row.cost_usd),
}))
"""


def _probe_inputs() -> dict:
    content = (SKILL_FOLDER / "references/postmortem-template.md").read_bytes()
    return {
        "ir": ir_normalized(fixture_ir()),
        "archetypes": {"engineering-managers": "grp_em", "sre": "grp_sre"},
        "action_schema": json.loads((FIXTURES / "hub_openapi.json").read_text()),
        "knowledge": [
            {
                "path": "references/postmortem-template.md",
                "sha256": hashlib.sha256(content).hexdigest(),
                "size": len(content),
                "media_type": "text/markdown",
            }
        ],
        "event": {
            "id": "audit_log-1",
            "type": "gpt.invoked",
            "effective_at": 1764068400,
            "gpt.invoked": {
                "gpt_name": "claresia-dainese-prd-review",
                "model": "gpt-4o",
                "usage": {"input_tokens": 1000, "output_tokens": 100},
            },
        },
    }


def _run_probe(script: str = PROBE) -> dict:
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(_probe_inputs()),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _is_import_machinery(event: str, target: str) -> bool:
    # Python's importer lists package folders and opens the modules' sources and bytecode.
    return event == "os.listdir" or (
        event == "open" and target.endswith((".py", ".pyc", ".so", ".pth"))
    )


def test_the_cores_import_without_django_and_touch_nothing_when_called():
    # given the transpiler and the normalizer in an interpreter without Django settings
    # when they are imported and each is called once
    result = _run_probe()

    # then no Django (nor DRF) module was imported
    frameworks = [
        name for name in result["modules"] if name.partition(".")[0] in ("django", "rest_framework")
    ]
    assert frameworks == []
    assert set(CORES) <= set(result["modules"])
    # and importing them opened no file but their own modules
    opened = [
        [event, target]
        for event, target in result["seen"]["import"]
        if not _is_import_machinery(event, target)
    ]
    assert opened == []
    # and the calls did no I/O at all, yet did their work on the inputs they were handed
    assert result["seen"]["call"] == []
    assert len(result["bundle_sha256"]) == 64
    assert result["cost_usd"] == "0.003500"


def test_the_probe_sees_a_core_that_reads_a_file():
    # given the probe's own watch, applied to a call that reads a file
    probe = PROBE.replace(
        'phase = "call"\n', 'phase = "call"\nopen(__import__("os").devnull).close()\n', 1
    )

    # when it runs
    result = _run_probe(probe)

    # then the read is reported
    assert ["open", os.devnull] in result["seen"]["call"]


# ---- every module that says it is pure ----------------------------------------------------------

APPS = ("claresia", "connectors", "skills", "telemetry", "command_center", "demo")
# How a module says it is pure: a sentence starting "Pure:" (skills.targets.custom_gpt.transpiler's
# wording) or
# "… as a pure function" (the normalizers'). Saying another module is pure is not a claim.
PURE_CLAIM = re.compile(r"\bPure:|\bas a pure function\b")
FRAMEWORKS = ("django", "rest_framework")

IMPORT_PROBE = """
import importlib, json, sys

seen = []
WATCHED = ("open", "os.listdir", "os.scandir", "socket.", "subprocess.", "os.system", "os.exec")


def watch(event, args):
    if event.startswith(WATCHED):
        seen.append([event, str(args[0]) if args else ""])


sys.addaudithook(watch)
importlib.import_module(sys.argv[1])
print(json.dumps({"seen": seen, "modules": sorted(sys.modules)}))
"""


def declared_pure(root: Path = ROOT, apps=APPS) -> list[str]:
    """The modules under `apps` whose docstring says they are pure."""
    found = []
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            docstring = ast.get_docstring(ast.parse(path.read_text(), str(path))) or ""
            if PURE_CLAIM.search(docstring):
                parts = list(path.relative_to(root).with_suffix("").parts)
                found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def impurities(module: str, root: Path = ROOT) -> list[str]:
    """What importing `module` in a fresh interpreter without Django settings did that a pure
    module must not: a framework imported, or a file, socket or process touched."""
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, module],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        return [f"does not import: {completed.stderr.strip().splitlines()[-1:]}"]
    result = json.loads(completed.stdout)
    frameworks = sorted({name.partition(".")[0] for name in result["modules"]} & set(FRAMEWORKS))
    touched = [
        f"{event} {target}"
        for event, target in result["seen"]
        if not _is_import_machinery(event, target)
    ]
    return [f"imports {name}" for name in frameworks] + touched


def test_the_pure_claims_are_found():
    # given the project's modules, when their docstrings are read
    found = set(declared_pure())
    # then the cores the house names as pure are among those that say so
    assert {
        "skills.targets.custom_gpt.transpiler",
        "skills.targets.plugin.build",
        "skills.targets.plugin.marketplace",
        "skills.ir.agent_skills",
        "telemetry.ingest.sources.audit_log.normalizer",
        "telemetry.ingest.sources.logs_platform.normalizer",
    } <= found


@pytest.mark.parametrize("module", declared_pure())
def test_a_module_that_says_it_is_pure_imports_without_django_and_touches_nothing(module):
    assert impurities(module) == []


def test_the_detector_sees_a_made_up_module_that_is_not_as_pure_as_it_says(tmp_path):
    # given a made-up app: a "pure" module that loads Django's settings, one that opens a file
    # at import, and one that reads the database but never says it is pure
    app = tmp_path / "madeup"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "core.py").write_text('"""Pure: no database."""\nfrom django.conf import settings\n')
    (app / "reader.py").write_text(
        '"""Text in, text out, as a pure function."""\nimport os\nopen(os.devnull).close()\n'
    )
    (app / "edge.py").write_text('"""Reads the database."""\nfrom django.db import models\n')

    # when the claims are found and each is probed
    found = declared_pure(tmp_path, apps=("madeup",))

    # then the two claims are found, not the module that makes none, and each fault is seen
    assert found == ["madeup.core", "madeup.reader"]
    assert impurities("madeup.core", tmp_path) == ["imports django"]
    assert impurities("madeup.reader", tmp_path) == [f"open {os.devnull}"]
