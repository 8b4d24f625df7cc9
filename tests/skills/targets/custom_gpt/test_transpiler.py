"""The transpiler: IR + tenant → Custom GPT bundle. Pure: these tests need no database.

Golden files (`golden/`, beside this file): regenerate with
    UPDATE_GOLDEN=1 make test PG_URL=… REDIS_URL=…
        PYTEST_ARGS=tests/skills/targets/custom_gpt/test_transpiler.py
and review the diff. The golden bundle uses the frozen action schema
`tests/skills/fixtures/hub_openapi.json`, so it stays honest when the hub API changes
`skills/openapi/emit_hub_record.json`; the test
`test_action_is_cut_from_the_hub_definition_file` checks what the bundle relies on in that file.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

from skills.hub_action import action_schema_cut, hub_action_schema
from skills.ir.validation import ir_normalized
from skills.targets.common import BundleError, TenantContext, canonical_json
from skills.targets.custom_gpt.transpiler import (
    KnowledgeRef,
    gpt_action,
    gpt_instructions,
    skill_bundle,
)
from tests.skills.helpers import FIXTURES, SKILL_FOLDER, fixture_ir, minimal_ir

GOLDEN = Path(__file__).parent / "golden" / "incident-postmortem.bundle.json"
HUB_OPENAPI = json.loads((FIXTURES / "hub_openapi.json").read_text())
CONTEXT = TenantContext(
    slug="dainese",
    hub_base="https://api.claresia.com",
    archetypes={"engineering-managers": "grp_em", "sre": "grp_sre"},
)


def _template_ref() -> KnowledgeRef:
    content = (SKILL_FOLDER / "references/postmortem-template.md").read_bytes()
    return KnowledgeRef(
        "references/postmortem-template.md",
        hashlib.sha256(content).hexdigest(),
        len(content),
        "text/markdown",
    )


def _bundle(ir=None, context=CONTEXT, refs=None):
    ir = ir_normalized(ir or fixture_ir())
    refs = [_template_ref()] if refs is None else refs
    return skill_bundle(ir, tenant=context, action_schema=HUB_OPENAPI, knowledge=refs)


def _golden_view(bundle) -> dict:
    return {
        "config": bundle.config,
        "knowledge": [ref.__dict__ for ref in bundle.knowledge],
        "group_ids": list(bundle.group_ids),
        "sha256": bundle.sha256,
    }


def test_bundle_of_the_fixture_skill_matches_the_golden_file():
    # given the fixed incident-postmortem IR and tenant
    # when it is transpiled
    view = _golden_view(_bundle())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(view, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    # then the bundle is exactly the reviewed golden one
    assert view == json.loads(GOLDEN.read_text())


def test_same_ir_and_tenant_give_byte_identical_bundle_and_hash():
    # given two transpilations of equal inputs (the second from a re-ordered copy of the IR)
    first = _bundle()
    second = _bundle(dict(reversed(list(fixture_ir().items()))))
    # then the canonical bytes and the hash are identical
    assert canonical_json(first.config) == canonical_json(second.config)
    assert first.sha256 == second.sha256


def test_a_changed_knowledge_file_changes_the_bundle_hash():
    # given the same IR with a knowledge file whose content differs
    ref = _template_ref()
    changed = KnowledgeRef(ref.path, "0" * 64, ref.size, ref.media_type)
    # then the bundle hash differs
    assert _bundle(refs=[changed]).sha256 != _bundle().sha256


def test_gpt_is_named_after_tenant_and_skill_and_carries_its_hash():
    bundle = _bundle()
    assert bundle.config["name"] == "claresia-dainese-incident-postmortem"
    assert bundle.config["metadata"] == {
        "claresia_tenant": "dainese",
        "claresia_skill": "incident-postmortem",
        "claresia_bundle_sha256": bundle.sha256,
    }


def test_instructions_hold_the_parameter_form_the_hub_call_and_the_footer_rule():
    instructions = _bundle().config["instructions"]
    assert instructions.startswith("You write blameless postmortems.")
    assert "| **Severity** (`severity`) | one of the choices | yes | `SEV1`, `SEV2`, `SEV3` |" in (
        instructions
    )
    assert "| **Timeline** (`timeline`) | text (several lines) | no |" in instructions
    assert "always call `claresia.emit_hub_record`" in instructions
    assert "End every reply with the `footer`" in instructions


def test_skill_tools_become_function_definitions():
    tools = _bundle().config["tools"]
    assert tools == [
        {
            "type": "function",
            "function": {
                "name": "lookup_incident",
                "description": "Fetch an incident's record from the incident tracker.",
                "parameters": fixture_ir()["tools"][0]["parameters"],
            },
        }
    ]


def test_mode_c_tenant_gets_its_own_hub_as_the_action_server():
    # given a Mode C tenant whose hub runs in the customer's cloud
    context = TenantContext("dainese", "https://hub.dainese.example", CONTEXT.archetypes)
    # when transpiled
    action = _bundle(context=context).config["actions"][0]
    # then the action calls that hub with bearer auth
    assert action["openapi_schema"]["servers"] == [{"url": "https://hub.dainese.example"}]
    assert action["auth"] == {"type": "api_key", "authorization_type": "bearer"}


def test_action_is_cut_from_the_hub_definition_file():
    # given the project's hub action definition (skills/openapi/emit_hub_record.json)
    schema = gpt_action(hub_action_schema(), "https://hub.example.com")
    # then it holds one emit_hub_record POST at /hub/v1/records, as the bundle relies on
    assert schema["openapi"].startswith("3.1")
    assert schema["servers"] == [{"url": "https://hub.example.com"}]
    assert list(schema["paths"]) == ["/hub/v1/records"]
    operation = schema["paths"]["/hub/v1/records"]["post"]
    assert operation["operationId"] == "emit_hub_record"
    assert len(operation.get("description", "")) <= 300
    schemes = schema["components"]["securitySchemes"].values()
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes)


def test_action_cut_keeps_only_the_schemas_the_operation_references():
    # given a hub document with other operations and schemas beside emit_hub_record
    document = json.loads(json.dumps(HUB_OPENAPI))
    document["paths"]["/hub/v1/records/{id}"] = {
        "get": {"operationId": "get_record", "responses": {}}
    }
    document["components"]["schemas"]["Unrelated"] = {"type": "object"}
    # when the action is cut
    schema = action_schema_cut(document)
    # then only the records POST and its schemas remain
    assert list(schema["paths"]) == ["/hub/v1/records"]
    assert sorted(schema["components"]["schemas"]) == ["HubRecord", "HubRecordRequest"]


def test_instructions_over_the_limit_say_by_how_much_and_on_which_skill():
    # given a skill whose prompt plus Claresia's rules exceed 8,000 characters
    ir = minimal_ir(instructions="x" * 7900)
    # when transpiled
    with pytest.raises(BundleError) as raised:
        _bundle(ir, refs=[])
    # then the error names the skill, the limit and the excess
    (problem,) = raised.value.problems
    assert problem.startswith("prd-review: instructions are 8,")
    assert "over the 8,000 limit" in problem
    expected = len(gpt_instructions(ir_normalized(ir))) - 8000
    assert f"{expected:,} over the 8,000 limit" in problem


def test_a_gpt_name_over_64_characters_is_refused_before_any_call():
    context = TenantContext("a" * 30, "https://api.claresia.com")
    with pytest.raises(BundleError) as raised:
        _bundle(minimal_ir("b" * 40), context=context, refs=[])
    assert "GPT name" in raised.value.problems[0]
    assert "is 80 characters, 16 over the 64 limit" in raised.value.problems[0]


def test_more_than_20_knowledge_files_are_refused():
    refs = [KnowledgeRef(f"f{i}.md", "a" * 64, 1, "text/markdown") for i in range(21)]
    ir = minimal_ir(knowledge=[{"path": ref.path} for ref in refs])
    with pytest.raises(BundleError) as raised:
        _bundle(ir, refs=refs)
    assert raised.value.problems == ["prd-review: 21 knowledge files, 1 over the 20 limit"]


def test_a_knowledge_file_over_512_mb_is_refused():
    ref = KnowledgeRef("big.pdf", "a" * 64, 512 * 1024 * 1024 + 1, "application/pdf")
    with pytest.raises(BundleError) as raised:
        _bundle(minimal_ir(knowledge=[{"path": "big.pdf"}]), refs=[ref])
    assert raised.value.problems == [
        "prd-review: knowledge file big.pdf is 536,870,913 bytes, 1 over the 512 MB limit"
    ]


def test_a_tool_description_over_300_characters_is_refused():
    tool = {"name": "t", "description": "d" * 305, "parameters": {"type": "object"}}
    with pytest.raises(BundleError) as raised:
        _bundle(minimal_ir(tools=[tool]), refs=[])
    assert raised.value.problems == ["prd-review: tools[0].description is 5 over the 300 limit"]


def test_an_action_description_over_300_characters_is_refused():
    document = json.loads(json.dumps(HUB_OPENAPI))
    document["paths"]["/hub/v1/records"]["post"]["description"] = "d" * 320
    with pytest.raises(BundleError) as raised:
        skill_bundle(ir_normalized(minimal_ir()), tenant=CONTEXT, action_schema=document)
    assert "emit_hub_record action description is 20 over the 300 limit" in raised.value.problems[0]


def test_an_unknown_archetype_group_blocks_the_bundle_naming_the_group():
    with pytest.raises(BundleError) as raised:
        _bundle(minimal_ir(archetypes=["finance"]), refs=[])
    assert raised.value.problems == [
        "prd-review: archetype group 'finance' does not exist for tenant 'dainese' "
        "(known: engineering-managers, sre)"
    ]
