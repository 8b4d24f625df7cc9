"""Manual export: per-skill ZIP contents, manifest.csv, byte-identical repeats, CSV injection,
no secrets, and the export_bundles command."""

import csv
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from skills.ir.importers import sources_from_path
from skills.services.imports import skills_import
from skills.targets.custom_gpt.export import csv_safe, skills_export
from tests.factories import COMPLIANCE_KEY
from tests.skills.helpers import minimal_ir, write_skill

GPT_ZIP = "claresia-dainese-incident-postmortem.zip"


def _manifest_rows(result) -> list[dict]:
    return list(csv.DictReader(io.StringIO(result.manifest.decode())))


def test_each_skill_zip_holds_config_instructions_action_knowledge_and_readme(imported_skill):
    result = skills_export(tenant=imported_skill.tenant)
    names = zipfile.ZipFile(io.BytesIO(result.bundles[GPT_ZIP])).namelist()
    assert names == [
        "README.md",
        "gpt.json",
        "instructions.md",
        "knowledge/references/postmortem-template.md",
        "openapi/emit_hub_record.json",
    ]


def test_manifest_has_one_row_per_skill_with_groups_hash_and_zip_name(imported_skill):
    result = skills_export(tenant=imported_skill.tenant)
    (row,) = _manifest_rows(result)
    assert row["gpt_name"] == "claresia-dainese-incident-postmortem"
    assert row["display_name"] == "Incident Postmortem"
    assert row["version"] == "1.0.0"
    assert row["archetype_groups"] == "engineering-managers;sre"
    assert row["workspace_group_ids"] == "grp_em;grp_sre"
    assert row["file_count"] == "1"
    assert row["zip_file"] == GPT_ZIP
    assert len(row["bundle_sha256"]) == 64


def test_exports_are_byte_identical_on_repeat(imported_skill):
    first = skills_export(tenant=imported_skill.tenant)
    second = skills_export(tenant=imported_skill.tenant)
    assert first.archive() == second.archive()


def test_formula_cells_are_neutralized_in_the_manifest(tenant, archetypes, tmp_path):
    # given a skill whose name and description would run as spreadsheet formulas
    write_skill(
        tmp_path,
        minimal_ir(name='=HYPERLINK("http://evil.example","x")', description="+cmd|' /C calc'!A0"),
    )
    skills_import(tenant=tenant, sources=sources_from_path(tmp_path))
    # when exported
    (row,) = _manifest_rows(skills_export(tenant=tenant))
    # then each such cell starts with a quote, so no spreadsheet evaluates it
    assert row["display_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["description"] == "'+cmd|' /C calc'!A0"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", " =1"])
def test_every_formula_prefix_is_quoted(cell):
    assert csv_safe(cell) == "'" + cell


def test_a_plain_cell_is_left_alone():
    assert csv_safe("Incident Postmortem") == "Incident Postmortem"


def test_no_secret_is_in_the_export_and_the_readme_says_where_the_token_goes(
    connector, imported_skill
):
    archive = skills_export(tenant=imported_skill.tenant).bundles[GPT_ZIP]
    contents = b"".join(
        zipfile.ZipFile(io.BytesIO(archive)).read(name)
        for name in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    )
    assert COMPLIANCE_KEY.encode() not in contents
    assert connector.api_key_ciphertext.encode() not in contents
    readme = zipfile.ZipFile(io.BytesIO(archive)).read("README.md").decode()
    assert "**Authentication**: API Key, **Bearer**, the tenant's hub" in readme
    assert "admin → Hub\n   tokens → Add" in readme


def test_a_blocked_skill_is_listed_and_not_exported(tenant, archetypes, tmp_path):
    write_skill(tmp_path, minimal_ir(archetypes=["finance"]))
    skills_import(tenant=tenant, sources=sources_from_path(tmp_path))
    result = skills_export(tenant=tenant)
    assert result.bundles == {}
    assert result.blocked[0][0] == "prd-review"


def test_export_bundles_writes_the_zips_and_manifest(imported_skill, tmp_path, capsys):
    call_command("export_bundles", "--tenant", "dainese", "--out", str(tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [GPT_ZIP, "manifest.csv"]
    assert "1 bundle(s) and manifest.csv written" in capsys.readouterr().out


def test_export_bundles_refuses_an_unknown_skill(imported_skill, tmp_path):
    with pytest.raises(CommandError, match="no skill nope for tenant dainese"):
        call_command(
            "export_bundles", "--tenant", "dainese", "--out", str(tmp_path), "--skill", "nope"
        )
