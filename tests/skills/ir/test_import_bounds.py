"""Skill imports stay bounded in memory and time whatever the bytes: YAML aliases are refused,
documents are bounded in size, depth and values while they are read, and every refusal is a
listed problem, never a crash. Each test here would hang or exhaust memory without its bound."""

import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from skills.ir import documents
from skills.ir.importers import SkillSourceError, sources_from_path, sources_from_upload
from skills.models import Skill
from skills.services.imports import skills_import
from tests.skills.helpers import minimal_ir, zip_bytes


def _refused(tenant, sources) -> list[str]:
    report = skills_import(tenant=tenant, sources=sources)
    assert not report.imported
    return [problem for _, problems in report.refused for problem in problems]


def _ir_yaml(**changes) -> str:
    return yaml.safe_dump(minimal_ir(**changes), sort_keys=False)


def _alias_chain(levels: int = 8, fanout: int = 10) -> str:
    """Anchors a0…a{levels}, each a list of `fanout` aliases of the one before: ~600 bytes that
    expand to fanout**levels strings once anything walks them."""
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * fanout)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


# ---- YAML aliases ---------------------------------------------------------------------------


def test_a_yaml_alias_bomb_in_a_skill_field_is_refused_before_it_expands(tenant):
    # given a 600-byte skill.yaml whose name is an alias of 10**8 strings
    content = (_alias_chain() + _ir_yaml().replace("name: PRD Review", "name: *a8")).encode()
    # when it is imported
    problems = _refused(tenant, sources_from_upload("skill.yaml", content))
    # then it is refused on its first anchor, with the line
    assert problems == [
        "skill.yaml: line 1: YAML anchors and aliases (&a0) are not accepted in a skill "
        "document; write the value out"
    ]


def test_a_yaml_alias_bomb_in_skill_md_front_matter_is_refused(tenant):
    # given a SKILL.md whose front matter names the skill with an alias chain
    front = _alias_chain() + "name: *a8\ndescription: Checks a pipeline.\n"
    content = f"---\n{front}---\nFind stale deals.\n".encode()
    # when it is imported
    problems = _refused(tenant, sources_from_upload("SKILL.md", content))
    # then the front matter is refused, not expanded
    assert problems == [
        "SKILL.md: line 2: YAML anchors and aliases (&a0) are not accepted in a skill "
        "document; write the value out"
    ]


def test_a_doubling_alias_chain_under_tool_parameters_never_reaches_the_database(tenant):
    # given a tool whose parameters hold a chain of 30 doubling aliases (2**30 leaves)
    chain = "\n".join(
        ["      d0: &d0 [x, x]"]
        + [f"      d{i}: &d{i} [*d{i - 1}, *d{i - 1}]" for i in range(1, 31)]
    )
    tool = "  - name: lookup\n    description: d\n    parameters:\n      type: object\n"
    tools = f"tools:\n{tool}{chain}\n"
    content = zip_bytes({"prd/skill.yaml": _ir_yaml() + tools})
    # when the ZIP is imported
    problems = _refused(tenant, sources_from_upload("skills.zip", content))
    # then the skill is refused and nothing is stored
    assert len(problems) == 1
    assert "YAML anchors and aliases (&d0) are not accepted" in problems[0]
    assert not Skill.objects.exists()


# ---- depth ----------------------------------------------------------------------------------


def test_a_yaml_document_nested_100000_deep_is_refused_clearly(tenant):
    content = (_ir_yaml() + "model: " + "[" * 100_000 + "]" * 100_000 + "\n").encode()
    problems = _refused(tenant, sources_from_upload("skill.yaml", content))
    assert problems == ["skill.yaml: line 7: nested deeper than 32 levels"]


def test_a_json_document_nested_100000_deep_is_refused_clearly(tenant):
    # given a skill.json whose model is a list nested 100,000 deep
    document = json.dumps(minimal_ir(model="MODEL")).replace(
        '"MODEL"', "[" * 100_000 + "]" * 100_000
    )
    # when it is imported
    problems = _refused(tenant, sources_from_upload("skill.json", document.encode()))
    # then it is a clear problem, not a RecursionError
    assert problems == ["skill.json: line 1: nested deeper than 32 levels"]


def test_deep_json_in_skill_md_metadata_is_refused_clearly(tenant):
    # given a SKILL.md whose claresia-parameters metadata is a list nested 100,000 deep
    deep = "[" * 100_000 + "]" * 100_000
    front = f"name: prd-review\ndescription: d\nmetadata:\n  claresia-parameters: '{deep}'\n"
    content = f"---\n{front}---\nReview PRDs.\n".encode()
    # when it is imported
    problems = _refused(tenant, sources_from_upload("SKILL.md", content))
    # then the metadata is named in the problem
    assert problems == [
        "SKILL.md: metadata.claresia-parameters: line 1: nested deeper than 32 levels"
    ]


# ---- values and size ------------------------------------------------------------------------


def test_a_list_of_200000_items_is_refused_after_the_values_a_document_may_hold(tenant):
    # given a skill.yaml of 400 KB, almost all of it one list
    content = (_ir_yaml() + "archetypes: [" + "a," * 200_000 + "a]\n").encode()
    # when it is imported
    problems = _refused(tenant, sources_from_upload("skill.yaml", content))
    # then it is refused as soon as the bound is passed, not after composing every item
    assert problems == [
        "skill.yaml: line 7: more than 20,000 values; a skill document may hold at most 20,000"
    ]


def test_a_skill_document_over_1_mb_is_refused_stating_its_size(tenant):
    content = (_ir_yaml(instructions="x" * (1024 * 1024)) + "\n").encode()
    problems = _refused(tenant, sources_from_upload("skill.yaml", content))
    assert problems == [
        f"skill.yaml is {len(content):,} bytes; a skill document may be at most 1 MB"
    ]


def test_a_6_mb_document_of_a_million_list_items_is_refused_on_its_size(tenant):
    content = (_ir_yaml() + "archetypes:\n" + "- a\n" * 1_500_000).encode()
    problems = _refused(tenant, sources_from_upload("skill.yaml", content))
    assert problems == ["skill.yaml is 5.7 MB; a skill document may be at most 1 MB"]


def test_the_command_refuses_a_100_mb_skill_file_without_reading_it(tenant, tmp_path, capsys):
    # given a 100 MB skill.yaml on disk (sparse: nothing is written)
    path = tmp_path / "skill.yaml"
    with path.open("wb") as file:
        file.truncate(100 * 1024 * 1024)
    # when the command imports it
    with pytest.raises(CommandError, match=r"1 skill\(s\) refused"):
        call_command("import_skills", "--tenant", tenant.slug, str(path))
    # then it exits non-zero with one line stating the size
    assert capsys.readouterr().err == (
        f"{path}: skill.yaml is 100.0 MB; a skill document may be at most 1 MB\n"
    )


def test_knowledge_beside_a_yaml_file_is_read_within_the_import_bound(tenant, tmp_path, settings):
    # given a 1 KB import bound and a skill.yaml naming a 4 KB file beside it
    settings.SKILLS_IMPORT_MAX_BYTES = 1024
    (tmp_path / "guide.md").write_bytes(b"x" * 4096)
    (tmp_path / "skill.yaml").write_text(_ir_yaml(knowledge=[{"path": "guide.md"}]))
    # when it is read, then it is refused like a folder over the bound
    with pytest.raises(SkillSourceError, match="more than 1024 bytes"):
        sources_from_path(tmp_path / "skill.yaml")


# ---- both YAML parsers ----------------------------------------------------------------------


@pytest.fixture(params=["libyaml", "python"])
def yaml_loader(request, monkeypatch):
    """Each bound holds with libyaml's parser and with PyYAML's pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(documents, "Loader", documents.PythonLoader)
    elif not yaml.__with_libyaml__:
        pytest.skip("libyaml is not installed")
    return request.param


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (_alias_chain(), "line 1: YAML anchors and aliases (&a0)"),
        ("a: [1, 2]\nb: *x\n", "line 2: YAML anchors and aliases (*x)"),
        ("a: " + "[" * 40 + "]" * 40, "line 1: nested deeper than 32 levels"),
        ("a: [" + "1," * 30_000 + "1]", "line 1: more than 20,000 values"),
        ("a: !!binary aGVsbG8=", "line 1: !!binary values are not accepted"),
        ("a: !!set {x, y}", "line 1: !!set values are not accepted"),
    ],
)
def test_each_yaml_bound_is_met_while_composing(yaml_loader, text, problem):
    with pytest.raises(documents.DocumentError) as refused:
        documents.load_yaml(text)
    assert str(refused.value).startswith(problem)


def test_a_yaml_timestamp_stays_the_text_it_was_written_as(yaml_loader):
    assert documents.load_yaml("day: 2026-01-31\nat: 2026-01-31 10:00:00Z\n") == {
        "day": "2026-01-31",
        "at": "2026-01-31 10:00:00Z",
    }


def test_a_date_default_in_tool_parameters_is_stored_as_text(tenant):
    # given a tool whose parameter default is an unquoted YAML date
    tool = (
        "tools:\n  - name: lookup\n    description: d\n    parameters:\n      type: object\n"
        "      properties: {day: {type: string, default: 2026-01-31}}\n"
    )
    # when it is imported
    report = skills_import(
        tenant=tenant, sources=sources_from_upload("s.yaml", (_ir_yaml() + tool).encode())
    )
    # then it is stored, as the text it was written as
    assert report.ok, report.refused
    properties = Skill.objects.get().ir["tools"][0]["parameters"]["properties"]
    assert properties["day"]["default"] == "2026-01-31"


# ---- one budget per import ------------------------------------------------------------------


def test_the_documents_of_one_import_share_one_budget_of_values(tenant, settings):
    # given an import budget of 1,000 values and a ZIP of 20 skills of ~60 values each
    settings.SKILLS_IMPORT_MAX_IR_VALUES = 1000
    content = zip_bytes(
        {f"s{i}/skill.yaml": _ir_yaml(archetypes=[f"a{n}" for n in range(40)]) for i in range(20)}
    )
    # when it is read, then the whole import is refused, naming the budget
    with pytest.raises(SkillSourceError, match="more than 1,000 values together"):
        sources_from_upload("skills.zip", content)


def test_the_documents_of_one_import_share_one_budget_of_bytes(settings):
    settings.SKILLS_IMPORT_MAX_IR_BYTES = 4096
    content = zip_bytes({f"s{i}/skill.json": json.dumps(minimal_ir(f"s{i}")) for i in range(30)})
    with pytest.raises(SkillSourceError, match="more than 4,096 bytes together"):
        sources_from_upload("skills.zip", content)


def test_the_command_reads_every_path_under_one_budget(tenant, tmp_path, settings):
    # given two skill files whose documents together are over the import's byte budget
    settings.SKILLS_IMPORT_MAX_IR_BYTES = 200
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(_ir_yaml())
    # when both are imported at once, then the command refuses the import in one line
    with pytest.raises(CommandError, match="together; import them in batches"):
        call_command(
            "import_skills",
            "--tenant",
            tenant.slug,
            str(tmp_path / "a.yaml"),
            str(tmp_path / "b.yaml"),
        )


# ---- the admin upload -----------------------------------------------------------------------


def test_the_admin_upload_refuses_an_alias_bomb_as_a_listed_problem(client, staff, tenant):
    client.force_login(staff)
    upload = io.BytesIO((_alias_chain() + _ir_yaml(name="*a8")).replace("'*a8'", "*a8").encode())
    upload.name = "bomb.yaml"
    response = client.post("/admin/skills/skill/import/", {"tenant": tenant.pk, "file": upload})
    assert response.status_code == 200
    assert b"bomb.yaml: line 1: YAML anchors and aliases (&amp;a0) are not accepted" in (
        response.content
    )


def test_the_admin_upload_refuses_an_oversized_document_before_reading_it(client, staff, tenant):
    # given a 2 MB skill.yaml
    client.force_login(staff)
    upload = io.BytesIO(b"#" * (2 * 1024 * 1024))
    upload.name = "skill.yaml"
    # when it is uploaded
    response = client.post("/admin/skills/skill/import/", {"tenant": tenant.pk, "file": upload})
    # then the form refuses it, stating its size
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "skill.yaml is 2.0 MB; a skill document may be at most 1 MB"
    ]
