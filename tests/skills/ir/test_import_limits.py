"""What a skill may hold: lists are bounded at import (errors), and the platform's own limits that
a valid skill can still exceed (a GPT's instructions with Claresia's rules) are warnings, given at
import and shown beside the skill in the admin and on the Command Center's Distribution page."""

import io
import json

import pytest
import yaml
from django.core.management import call_command

from skills.ir.importers import sources_from_upload
from skills.ir.validation import ir_validate
from skills.models import Skill
from skills.services.imports import skills_import
from skills.targets.custom_gpt.transpiler import INSTRUCTIONS_LIMIT, gpt_instructions
from tests.skills.helpers import minimal_ir

# ---- list lengths ---------------------------------------------------------------------------


def _parameter(index: int) -> dict:
    return {"name": f"p{index}", "label": f"P{index}", "type": "string"}


def _tool(index: int) -> dict:
    return {"name": f"t{index}", "description": "d", "parameters": {"type": "object"}}


@pytest.mark.parametrize(
    ("field", "items", "problem"),
    [
        ("parameters", [_parameter(i) for i in range(51)], "parameters: at most 50 items (has 51)"),
        ("tools", [_tool(i) for i in range(129)], "tools: at most 128 items (has 129)"),
        ("archetypes", [f"a{i}" for i in range(101)], "archetypes: at most 100 items (has 101)"),
    ],
)
def test_every_list_of_a_skill_is_bounded(field, items, problem):
    assert ir_validate(minimal_ir(**{field: items})) == [problem]


# ---- the GPT's instructions limit: a warning ------------------------------------------------


def _over_the_limit(**changes) -> dict:
    """A valid IR whose GPT instructions, with Claresia's rules, are 100 over the limit."""
    document = minimal_ir(**changes)
    rules = len(gpt_instructions({**document, "instructions": ""}))
    return {**document, "instructions": "x" * (INSTRUCTIONS_LIMIT - rules + 100)}


def _upload(document: dict):
    return sources_from_upload("skill.yaml", yaml.safe_dump(document).encode())


def test_instructions_over_the_gpt_limit_are_imported_with_a_warning(tenant):
    # given a skill whose instructions fit the IR but not a GPT once Claresia's rules are added
    document = _over_the_limit()
    # when it is imported
    report = skills_import(tenant=tenant, sources=_upload(document))
    # then it is imported, with a warning that says by how much
    assert report.ok
    (imported,) = report.imported
    assert imported.warnings == (
        "ChatGPT: the GPT's instructions are 8,100 characters with Claresia's rules, 100 over "
        "the 8,000 limit; it cannot be published as a GPT until they are shorter",
    )
    assert Skill.objects.filter(skill_id="prd-review").exists()


def test_instructions_within_the_gpt_limit_give_no_warning(tenant):
    report = skills_import(tenant=tenant, sources=_upload(minimal_ir()))
    assert [s.warnings for s in report.imported] == [()]


def test_a_gpt_name_over_the_limit_is_a_warning(tenant):
    # given a skill id that makes the GPT's name claresia-dainese-<id> longer than 64 characters
    report = skills_import(tenant=tenant, sources=_upload(minimal_ir("a" * 48)))
    # then it is imported, with a warning
    ((warning,),) = [s.warnings for s in report.imported]
    assert warning.startswith(f"ChatGPT: the GPT name claresia-dainese-{'a' * 48} is 65 characters")


def test_the_command_prints_the_warning_beside_the_skill(tenant, tmp_path, capsys):
    (tmp_path / "skill.json").write_text(json.dumps(_over_the_limit()))
    call_command("import_skills", "--tenant", tenant.slug, str(tmp_path / "skill.json"))
    assert capsys.readouterr().out.splitlines() == [
        "prd-review: created 1.0.0",
        "prd-review: warning: ChatGPT: the GPT's instructions are 8,100 characters with "
        "Claresia's rules, 100 over the 8,000 limit; it cannot be published as a GPT until they "
        "are shorter",
    ]


def test_the_admin_upload_reports_the_warning(client, staff, tenant):
    client.force_login(staff)
    upload = io.BytesIO(yaml.safe_dump(_over_the_limit()).encode())
    upload.name = "skill.yaml"
    response = client.post(
        "/admin/skills/skill/import/", {"tenant": tenant.pk, "file": upload}, follow=True
    )
    assert "Skill prd-review: ChatGPT: the GPT&#x27;s instructions are 8,100 characters" in (
        response.content.decode()
    )


@pytest.fixture
def skill_over_the_limit(tenant):
    report = skills_import(tenant=tenant, sources=_upload(_over_the_limit()))
    assert report.ok, report.refused
    return Skill.objects.get(tenant=tenant, skill_id="prd-review")


def test_the_admin_skill_list_and_page_show_the_warning(client, staff, skill_over_the_limit):
    client.force_login(staff)
    listing = client.get("/admin/skills/skill/").content.decode()
    page = client.get(f"/admin/skills/skill/{skill_over_the_limit.pk}/change/").content.decode()
    for content in (listing, page):
        assert "100 over the 8,000 limit" in content


def test_the_distribution_page_shows_the_warning_on_the_skill_row(
    client, staff, skill_over_the_limit
):
    client.force_login(staff)
    response = client.get("/command-center/distribution/")
    (row,) = response.context["rows"]
    assert row["warnings"] == [
        "ChatGPT: the GPT's instructions are 8,100 characters with Claresia's rules, 100 over "
        "the 8,000 limit; it cannot be published as a GPT until they are shorter"
    ]
    assert "100 over the 8,000 limit" in response.content.decode()
