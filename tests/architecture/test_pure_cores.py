"""The pure cores (ARCHITECTURE.md, Pure core, thin edges): the GPT transpiler and the audit event
normalizer import without Django and do no I/O, at import or when called; every input is an
argument. Checked in a fresh interpreter with no DJANGO_SETTINGS_MODULE, watching Python's audit
events (file opens, directory listings, sockets, processes)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from skills.ir.validation import ir_normalized
from tests.skills.helpers import FIXTURES, SKILL_FOLDER, fixture_ir

ROOT = Path(__file__).resolve().parents[2]
CORES = ("skills.transpiler", "telemetry.ingest.normalizer")

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

from skills.transpiler import KnowledgeRef, TenantContext, skill_bundle
from telemetry.ingest.normalizer import normalize_audit_event

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
