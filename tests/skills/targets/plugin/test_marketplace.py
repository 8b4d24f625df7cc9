"""The tenant's plugin marketplace repository as a pure function of the Skill IR: its shape
(`chatgpt-admin-api.md`, "Plugins, the successor"), determinism, the files of others kept, and the
skills added / changed / removed that a commit message lists."""

import json
import subprocess
from dataclasses import replace

from skills.ir.importers import sources_from_tree
from skills.ir.validation import ir_normalized
from skills.targets.common import TenantContext
from skills.targets.plugin.build import CARRIED_FIELDS, agent_skill
from skills.targets.plugin.marketplace import (
    FIRST_COMMIT_EPOCH,
    MARKETPLACE_PATH,
    commit_epoch,
    commit_message,
    git_blob_id,
    is_owned,
    marketplace,
    skill_changes,
)
from tests.skills.helpers import fixture_ir, minimal_ir

CONTEXT = TenantContext(slug="dainese", hub_base="https://api.claresia.com")
TEMPLATE = b"# Postmortem template\n"


def _carried(ir: dict) -> dict:
    return {key: ir[key] for key in CARRIED_FIELDS if key in ir}


def _build(irs: list[dict], existing: bytes | None = None):
    files = {"references/postmortem-template.md": TEMPLATE}
    skills = [agent_skill(ir, files=files) for ir in irs]
    return marketplace(
        skills, {ir["id"]: ir for ir in irs}, tenant=CONTEXT, existing_marketplace=existing
    )


def test_marketplace_file_follows_the_contract_shape():
    # given one skill
    built = _build([ir_normalized(minimal_ir())])
    # when the marketplace file is read
    document = json.loads(built.files[MARKETPLACE_PATH])
    # then it names the tenant's plugin, its local source, policy and category
    assert document["name"] == "claresia-dainese"
    assert document["interface"]["displayName"]
    (entry,) = document["plugins"]
    assert entry["name"] == "claresia-dainese"
    assert entry["source"] == {"source": "local", "path": "./plugins/claresia-dainese"}
    assert entry["policy"] == {"installation": "AVAILABLE", "authentication": "ON_INSTALL"}
    assert entry["category"]


def test_repository_holds_the_plugin_folder_skills_and_an_admin_readme():
    # given the fixture skill with a knowledge file
    built = _build([ir_normalized(fixture_ir())])
    # then the plugin, its skill folder and the admin's README are there
    root = "plugins/claresia-dainese"
    assert (
        json.loads(built.files[f"{root}/.codex-plugin/plugin.json"])["name"] == "claresia-dainese"
    )
    assert f"{root}/skills/incident-postmortem/SKILL.md" in built.files
    assert built.files[f"{root}/skills/incident-postmortem/references/postmortem-template.md"]
    readme = built.files["README.md"].decode()
    assert "Import marketplace" in readme and "Sync now" in readme
    assert "Workspace settings → Plugins" in readme
    assert set(built.skill_digests) == {"incident-postmortem"}


def test_same_skills_give_the_same_bytes():
    # given the same IRs twice
    irs = [ir_normalized(fixture_ir()), ir_normalized(minimal_ir())]
    # then the repository is byte-identical
    assert _build(irs).files == _build(list(reversed(irs))).files


def test_every_skill_reads_back_into_the_same_ir():
    # given the repository of two skills
    irs = [ir_normalized(fixture_ir()), ir_normalized(minimal_ir())]
    built = _build(irs)
    # when the importer reads the whole tree
    sources = sources_from_tree(built.files, "repository")
    # then each SKILL.md folder is the same IR, with its files
    documents = {s.document["id"]: ir_normalized(s.document) for s in sources}
    assert set(documents) == {ir["id"] for ir in irs}
    for ir in irs:
        assert _carried(documents[ir["id"]]) == _carried(ir)


def test_plugins_someone_else_listed_are_kept():
    # given a marketplace file someone edited by hand to add their own plugin
    theirs = {"name": "their-plugin", "source": {"source": "local", "path": "./plugins/theirs"}}
    existing = json.dumps({"plugins": [theirs, {"name": "claresia-dainese"}]}).encode()
    # when Claresia rebuilds it
    document = json.loads(_build([ir_normalized(minimal_ir())], existing).files[MARKETPLACE_PATH])
    # then their entry survives beside Claresia's, which is Claresia's own
    assert [p["name"] for p in document["plugins"]] == ["claresia-dainese", "their-plugin"]
    assert document["plugins"][1] == theirs


def test_only_claresia_paths_are_owned():
    assert is_owned(MARKETPLACE_PATH, CONTEXT) and is_owned("README.md", CONTEXT)
    assert is_owned("plugins/claresia-dainese/skills/a/SKILL.md", CONTEXT)
    assert not is_owned("plugins/claresia-dainese-2/x", CONTEXT)
    assert not is_owned("NOTES.md", CONTEXT)


def test_changes_and_the_commit_message_list_skills_added_changed_removed():
    # given digests before and after
    before = {"a": "1", "b": "2", "c": "3"}
    after = {"a": "1", "b": "9", "d": "4"}
    # when compared
    changes = skill_changes(before, after)
    # then each kind is listed, and the message says so
    assert (changes.added, changes.changed, changes.removed) == (("d",), ("b",), ("c",))
    message = commit_message(changes, tenant=CONTEXT)
    assert message.splitlines()[0] == "Update claresia-dainese: 1 added, 1 changed, 1 removed"
    assert "Added: d" in message and "Changed: b" in message and "Removed: c" in message
    assert not skill_changes(before, before).any


def test_commit_dates_follow_the_parent_not_the_clock():
    assert commit_epoch(None) == FIRST_COMMIT_EPOCH
    assert commit_epoch(1_800_000_000) == 1_800_000_001


def test_a_commit_is_dated_when_its_newest_skill_changed_never_before_its_parent():
    # a skill changed on 2026-12-01: the commit says so, not 2025-01-01
    assert commit_epoch(None, changed_at=1_764_547_200) == 1_764_547_200
    assert commit_epoch(1_764_547_200, changed_at=1_764_547_200) == 1_764_547_201
    assert commit_epoch(1_800_000_000, changed_at=1_764_547_200) == 1_800_000_001


def test_blob_ids_are_git_s():
    # given some bytes
    data = b"hello\n"
    # then the id is the one git computes
    expected = (
        subprocess.run(
            ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    assert git_blob_id(data) == expected


def test_the_admin_readme_explains_connecting_the_app_at_mcp():
    # when
    readme = _build([ir_normalized(minimal_ir())]).files["README.md"].decode()

    # then: the app's /mcp URL, who approves, the required app after the import, revocation
    assert "`https://api.claresia.com/mcp`" in readme
    assert "/hub/v1/records" not in readme
    assert "tenant admin of `dainese`" in readme and "**Approve**" in readme
    assert "enable its required app" in readme
    assert "Telemetry → **MCP clients**" in readme and "*Revoke their tokens*" in readme
    assert ".app.json`" not in readme.split("## Recording to the hub")[1]


def test_with_an_app_id_the_plugin_names_the_app_in_app_json():
    # given: the workspace gave the Claresia app an id
    context = replace(CONTEXT, app_id="asdk_app_0123abcd")
    irs = [ir_normalized(minimal_ir())]
    skills = [agent_skill(ir, files={}) for ir in irs]

    # when
    files = marketplace(skills, {ir["id"]: ir for ir in irs}, tenant=context).files

    # then: .app.json beside .mcp.json, both named in plugin.json, and the README says so
    root = "plugins/claresia-dainese"
    assert json.loads(files[f"{root}/.app.json"]) == {
        "apps": {"claresia-hub": {"id": "asdk_app_0123abcd"}}
    }
    manifest = json.loads(files[f"{root}/.codex-plugin/plugin.json"])
    assert manifest["apps"] == "./.app.json" and manifest["mcpServers"] == "./.mcp.json"
    assert f"{root}/.mcp.json" in files
    assert "names the app `asdk_app_0123abcd`" in files["README.md"].decode()


def test_without_an_app_id_there_is_no_app_json():
    # when
    files = _build([ir_normalized(minimal_ir())]).files

    # then
    root = "plugins/claresia-dainese"
    assert f"{root}/.app.json" not in files
    assert "apps" not in json.loads(files[f"{root}/.codex-plugin/plugin.json"])
