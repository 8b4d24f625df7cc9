"""The plugin target: IR → Agent Skills folder (SKILL.md) and plugin folder, the round trip back
through the importer (demo skills and generated IRs), the manifest of what is not carried, and
`export_bundles --target plugin`."""

import io
import json
import re
import zipfile
from dataclasses import replace

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo.loader import DEMO_SKILL_IDS, DEMO_SKILLS_DIR
from skills.ir.importers import sources_from_path, sources_from_tree, sources_from_upload
from skills.ir.validation import ir_normalized, ir_validate
from skills.rules import HUB_OPERATION_ID, RULES_HEADING
from skills.services.imports import skills_import
from skills.targets.common import BundleError, TenantContext
from skills.targets.plugin.build import CARRIED_FIELDS, agent_skill, plugin_folder
from skills.targets.plugin.export import skills_plugin_export
from skills.zipfiles import deterministic_zip
from tests.skills.helpers import fixture_ir, minimal_ir

CONTEXT = TenantContext(slug="dainese", hub_base="https://api.claresia.com")
TEMPLATE = b"# Postmortem template\n"


def _carried(ir: dict) -> dict:
    return {key: ir[key] for key in CARRIED_FIELDS if key in ir}


def _front_matter(skill_md: bytes) -> tuple[dict, str]:
    _, header, body = skill_md.decode().split("---\n", 2)
    return yaml.safe_load(header), body


def _unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _reimported(ir: dict, files: dict[str, bytes]) -> tuple[dict, dict[str, bytes]]:
    folder = agent_skill(ir, files=files)
    tree = {f"{ir['id']}/{path}": data for path, data in folder.files.items()}
    (source,) = sources_from_tree(tree, "export.zip")
    assert source.problems == []
    return ir_normalized(source.document), source.files


# ---- the SKILL.md folder ------------------------------------------------------------------


def test_skill_md_front_matter_has_the_skill_id_as_name_and_the_description():
    # given the fixture IR
    ir = ir_normalized(fixture_ir())
    # when it becomes an Agent Skills folder
    folder = agent_skill(ir, files={"references/postmortem-template.md": TEMPLATE})
    # then the front matter follows the Agent Skills rules
    front, _ = _front_matter(folder.files["SKILL.md"])
    assert front["name"] == "incident-postmortem"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", front["name"]) and len(front["name"]) <= 64
    assert front["description"] == ir["description"]


def test_description_with_angle_brackets_is_made_acceptable_and_kept_in_metadata():
    # given a description the Agent Skills rules refuse (< and >, over one line)
    ir = ir_normalized(minimal_ir(description="Reviews <PRD> docs\nfor gaps"))
    # when exported
    front, _ = _front_matter(agent_skill(ir, files={}).files["SKILL.md"])
    # then the front matter has neither, and the original is carried in metadata
    assert "<" not in front["description"] and ">" not in front["description"]
    assert "\n" not in front["description"] and len(front["description"]) <= 1024
    assert front["metadata"]["claresia-description"] == "Reviews <PRD> docs\nfor gaps"


def test_body_holds_the_instructions_the_form_the_hub_record_and_the_footer():
    # given the fixture IR with parameters
    ir = ir_normalized(fixture_ir())
    # when exported
    _, body = _front_matter(
        agent_skill(ir, files={"references/postmortem-template.md": TEMPLATE}).files["SKILL.md"]
    )
    # then the body starts with the skill's instructions and carries Claresia's rules
    assert body.startswith(ir["instructions"])
    assert RULES_HEADING in body
    assert "| **Incident ID** (`incident_id`) |" in body
    assert f"`{HUB_OPERATION_ID}`" in body and "footer" in body


def test_knowledge_goes_under_references():
    # given a knowledge file outside references/ and one inside it
    ir = ir_normalized(
        minimal_ir(knowledge=[{"path": "checklist.md"}, {"path": "references/a.md"}])
    )
    # when exported
    folder = agent_skill(ir, files={"checklist.md": b"c", "references/a.md": b"a"})
    # then both sit under references/
    assert sorted(folder.files) == ["SKILL.md", "references/a.md", "references/checklist.md"]


def test_a_missing_knowledge_file_blocks_the_skill():
    ir = ir_normalized(minimal_ir(knowledge=[{"path": "references/a.md"}]))
    with pytest.raises(BundleError, match=r"knowledge file references/a\.md is missing"):
        agent_skill(ir, files={})


def test_what_the_target_cannot_carry_is_listed():
    # given an IR with tools, starters, archetypes and a model
    ir = ir_normalized(
        minimal_ir(
            tools=[{"name": "lookup", "description": "d", "parameters": {"type": "object"}}],
            conversation_starters=["Go"],
            archetypes=["sre"],
            model="gpt-4o",
        )
    )
    # when exported
    listed = {item["field"]: item["items"] for item in agent_skill(ir, files={}).not_carried}
    # then each is named, with the hub action every skill has
    assert listed == {
        "actions": ["emit_hub_record"],
        "tools": ["lookup"],
        "conversation_starters": ["Go"],
        "archetypes": ["sre"],
        "model": ["gpt-4o"],
    }


def test_plugin_folder_has_plugin_json_and_the_skill_folders():
    # given two exported skills
    irs = {
        "prd-review": ir_normalized(minimal_ir()),
        "ops": ir_normalized(minimal_ir("ops", name="Ops")),
    }
    skills = [agent_skill(ir, files={}) for ir in irs.values()]
    # when the plugin folder is built
    entries = plugin_folder(skills, irs, tenant=CONTEXT)
    # then plugin.json names it, versions it, describes it and points at skills/
    manifest = json.loads(entries[".codex-plugin/plugin.json"])
    assert manifest["name"] == "claresia-dainese"
    assert re.fullmatch(r"\d+\.\d+\.\d+\+sha\.[0-9a-f]{12}", manifest["version"])
    assert manifest["description"] and manifest["skills"] == "./skills/"
    assert manifest["interface"]["displayName"] and manifest["interface"]["shortDescription"]
    assert {"skills/prd-review/SKILL.md", "skills/ops/SKILL.md"} <= set(entries)


def test_plugin_readme_says_how_to_reach_the_hub_without_holding_a_token():
    ir = ir_normalized(minimal_ir())
    readme = plugin_folder([agent_skill(ir, files={})], {ir["id"]: ir}, tenant=CONTEXT)["README.md"]
    assert b"https://api.claresia.com/mcp" in readme
    assert b"no hub token is in this export" in readme


def test_plugin_declares_the_hub_app_at_the_tenants_hub_base():
    # given: the plugin of a tenant, and of a Mode C tenant with its own hub
    ir = ir_normalized(minimal_ir())
    folder = plugin_folder([agent_skill(ir, files={})], {ir["id"]: ir}, tenant=CONTEXT)
    mode_c = replace(CONTEXT, hub_base="https://hub.dainese.example/")
    folder_c = plugin_folder([agent_skill(ir, files={})], {ir["id"]: ir}, tenant=mode_c)

    # then
    assert json.loads(folder[".codex-plugin/plugin.json"])["mcpServers"] == "./.mcp.json"
    servers = json.loads(folder[".mcp.json"])["mcpServers"]
    assert servers == {"claresia-hub": {"type": "http", "url": "https://api.claresia.com/mcp"}}
    servers_c = json.loads(folder_c[".mcp.json"])["mcpServers"]
    assert servers_c["claresia-hub"]["url"] == "https://hub.dainese.example/mcp"
    # and each SKILL.md sends the model to the app's tool and its footer
    skill_md = folder[f"skills/{ir['id']}/SKILL.md"].decode()
    assert "`emit_hub_record` tool of the plugin's Claresia hub app" in skill_md
    assert "footer" in skill_md


def test_plugin_version_changes_when_a_skill_changes():
    ir = ir_normalized(minimal_ir())
    changed = {**ir, "instructions": "You review PRDs carefully."}
    before = plugin_folder([agent_skill(ir, files={})], {ir["id"]: ir}, tenant=CONTEXT)
    after = plugin_folder([agent_skill(changed, files={})], {ir["id"]: changed}, tenant=CONTEXT)
    version = [json.loads(e[".codex-plugin/plugin.json"])["version"] for e in (before, after)]
    assert version[0] != version[1]


# ---- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("skill_id", DEMO_SKILL_IDS)
def test_demo_skill_round_trips_through_skill_md(skill_id):
    # given a demo skill as the importer reads it
    (source,) = sources_from_path(DEMO_SKILLS_DIR / skill_id)
    ir = ir_normalized(source.document)
    # when exported as SKILL.md and imported back
    document, files = _reimported(ir, source.files)
    # then every carried field is equal, and so are the knowledge files
    assert ir_validate(document) == []
    assert _carried(document) == _carried(ir)
    assert {item["path"]: files[item["path"]] for item in document["knowledge"]} == {
        item["path"]: source.files[item["path"]] for item in ir["knowledge"]
    }


def test_an_edited_rules_section_stays_part_of_the_instructions():
    # given an exported SKILL.md whose rules were edited by hand
    ir = ir_normalized(minimal_ir())
    skill_md = (
        agent_skill(ir, files={}).files["SKILL.md"].replace(b"Never invent", b"Do not invent")
    )
    # when imported
    (source,) = sources_from_upload("SKILL.md", skill_md)
    # then nothing of the body is lost
    assert "Do not invent a footer" in source.document["instructions"]


TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
    min_size=1,
    max_size=60,
).filter(str.strip)
# Text over several lines: any character but controls (tab and line feed aside) and surrogates,
# which the IR refuses.
PROSE = st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\t\n")
SLUG = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
PARAMETER = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
        "label": TEXT,
        "type": st.sampled_from(["string", "text", "integer", "boolean", "date"]),
        "required": st.booleans(),
    },
    optional={"description": TEXT, "default": st.one_of(TEXT, st.integers(), st.booleans())},
)
ENUM_PARAMETER = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
        "label": TEXT,
        "type": st.just("enum"),
        "choices": st.lists(TEXT, min_size=1, max_size=4),
    }
)
KNOWLEDGE_PATH = st.from_regex(
    r"(references/|assets/|docs/)?[a-z]{1,8}\.(md|txt|csv)", fullmatch=True
)


@st.composite
def generated_irs(draw):
    ir = {
        "ir_version": 1,
        "id": draw(SLUG.filter(lambda s: len(s) <= 48)),
        "name": draw(TEXT),
        "version": draw(
            st.from_regex(r"(0|[1-9][0-9]{0,2})\.(0|[1-9])\.[0-9](-rc\.[1-9])?", fullmatch=True)
        ),
        "description": draw(st.text(PROSE, min_size=1, max_size=300).filter(str.strip)),
        "instructions": draw(
            st.text(PROSE, min_size=1, max_size=400)
            .filter(str.strip)
            .map(lambda t: t.replace("\r", ""))
            .filter(str.strip)
        ),
        "parameters": draw(
            st.lists(
                st.one_of(PARAMETER, ENUM_PARAMETER), max_size=3, unique_by=lambda p: p["name"]
            )
        ),
        "conversation_starters": draw(st.lists(TEXT, max_size=2)),
        "archetypes": draw(st.lists(SLUG, max_size=2, unique=True)),
    }
    paths = draw(st.lists(KNOWLEDGE_PATH, max_size=3, unique_by=lambda p: p.split("/")[-1]))
    ir["knowledge"] = [{"path": path} for path in paths]
    if ir["knowledge"] and draw(st.booleans()):
        ir["knowledge"][0]["description"] = draw(TEXT)
    for key, strategy in (
        ("model", st.sampled_from(["gpt-4o", "gpt-4.1"])),
        ("owner", st.emails()),
    ):
        if draw(st.booleans()):
            ir[key] = draw(strategy)
    files = {path: draw(st.binary(max_size=64)) for path in paths}
    return ir, files


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_irs())
def test_generated_irs_round_trip_through_skill_md(generated):
    # given a valid generated IR and its knowledge files
    ir, files = generated
    assert ir_validate(ir) == []
    ir = ir_normalized(ir)
    # when exported as SKILL.md and imported back
    document, imported_files = _reimported(ir, files)
    # then every carried field is equal, the files too, and what is not carried is listed
    assert ir_validate(document) == []
    assert _carried(document) == _carried(ir)
    assert {item["path"]: imported_files[item["path"]] for item in document["knowledge"]} == files
    listed = {item["field"] for item in agent_skill(ir, files=files).not_carried}
    dropped = {key for key in ir if key not in CARRIED_FIELDS and ir[key]}
    assert dropped <= listed


def test_characters_yaml_reads_as_line_breaks_survive_the_round_trip():
    # given: a description with NEL (U+0085), which PyYAML writes raw and reads as a line break
    ir = ir_normalized({**minimal_ir(), "description": "0\x85", "name": "Café \u2028 Skill"})

    # when
    document, _ = _reimported(ir, {})

    # then
    assert document["description"] == "0\x85"
    assert document["name"] == "Café \u2028 Skill"


# ---- export service and command -----------------------------------------------------------


@pytest.fixture
def demo_skills(tenant):
    sources = []
    for skill_id in DEMO_SKILL_IDS:
        sources += sources_from_path(DEMO_SKILLS_DIR / skill_id)
    report = skills_import(tenant=tenant, sources=sources)
    assert report.ok, report.refused
    return tenant


def test_plugin_export_is_byte_identical_on_repeat(demo_skills):
    first = skills_plugin_export(tenant=demo_skills).archive()
    assert skills_plugin_export(tenant=demo_skills).archive() == first


def test_exported_plugin_zip_imports_back_to_the_same_skills(demo_skills, other_tenant):
    # given the demo skills exported as a plugin
    result = skills_plugin_export(tenant=demo_skills)
    # when the plugin ZIP is imported into another tenant
    report = skills_import(
        tenant=other_tenant, sources=sources_from_upload("p.zip", result.plugin_zip)
    )
    # then the same skills come back with every carried field equal
    assert report.ok, report.refused
    for skill in demo_skills.skills.all():
        again = other_tenant.skills.get(skill_id=skill.skill_id)
        assert _carried(again.ir) == _carried(skill.ir)


def test_manifest_lists_per_skill_what_the_plugin_cannot_carry(demo_skills):
    manifest = json.loads(skills_plugin_export(tenant=demo_skills).manifest)
    by_skill = {entry["skill_id"]: entry for entry in manifest["skills"]}
    assert sorted(by_skill) == sorted(DEMO_SKILL_IDS)
    fields = {item["field"] for item in by_skill["prd-review"]["not_carried"]}
    assert {"actions", "conversation_starters", "archetypes", "model"} <= fields


def test_export_bundles_target_plugin_writes_zips_plugin_and_manifest(demo_skills, tmp_path):
    # when the command exports the plugin target
    call_command(
        "export_bundles", "--tenant", "dainese", "--out", str(tmp_path), "--target", "plugin"
    )
    # then one ZIP per skill, the plugin ZIP and the manifest are written
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(
        [f"{s}.zip" for s in DEMO_SKILL_IDS] + ["claresia-dainese.zip", "manifest.json"]
    )
    entries = _unzip((tmp_path / "claresia-dainese.zip").read_bytes())
    assert "claresia-dainese/.codex-plugin/plugin.json" in entries
    assert "claresia-dainese/skills/prd-review/references/prd-checklist.md" in entries


def test_export_bundles_target_plugin_refuses_an_unknown_skill(demo_skills, tmp_path):
    with pytest.raises(CommandError, match="no skill nope for tenant dainese"):
        call_command(
            "export_bundles",
            "--tenant",
            "dainese",
            "--out",
            str(tmp_path),
            "--target",
            "plugin",
            "--skill",
            "nope",
        )
    assert list(tmp_path.iterdir()) == []


def test_deterministic_zip_ignores_insertion_order():
    assert deterministic_zip({"b": b"2", "a": b"1"}) == deterministic_zip({"a": b"1", "b": b"2"})
