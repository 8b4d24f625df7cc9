"""Import of Skill IR: each accepted form, each bad input, history on re-import, ZIP safety."""

import hashlib
import io
import json
import os
import stat
import zipfile

import pytest
import yaml
from django.core.management import CommandError, call_command

from claresia.models import Tenant
from skills.ir.importers import (
    SkillSource,
    SkillSourceError,
    sources_from_path,
    sources_from_upload,
)
from skills.ir.validation import ir_validate
from skills.models import KnowledgeFile, Skill, SkillVersion
from skills.services.imports import skills_import
from tests.factories import make_skill
from tests.skills.helpers import SKILL_FOLDER, minimal_ir, write_skill, zip_bytes

TEMPLATE = (SKILL_FOLDER / "references/postmortem-template.md").read_bytes()


def _import(tenant, sources):
    return skills_import(tenant=tenant, sources=sources)


# ---- validation ---------------------------------------------------------------------------


def test_every_problem_is_listed_with_its_path():
    # given an IR with several mistakes
    document = minimal_ir(
        id="Bad Id",
        parameters=[
            {"name": "a", "label": "A", "type": "string"},
            {"name": "b", "label": "B", "type": "colour"},
        ],
        colour="blue",
    )
    # when validated
    problems = ir_validate(document)
    # then each one is reported with its path
    assert problems == [
        "(document): unknown key colour",
        "id: use lower-case letters, digits and single dashes, like incident-postmortem "
        "(not 'Bad Id')",
        "parameters[1].type: must be one of string, text, integer, number, boolean, date, enum",
    ]


def test_an_enum_parameter_without_choices_is_refused():
    document = minimal_ir(parameters=[{"name": "s", "label": "S", "type": "enum"}])
    assert ir_validate(document) == ["parameters[0].choices: an enum parameter needs choices"]


def test_the_reserved_claresia_tool_prefix_is_refused():
    tool = {"name": "claresia_x", "description": "d", "parameters": {"type": "object"}}
    assert ir_validate(minimal_ir(tools=[tool])) == [
        "tools[0].name: names starting with claresia_ are kept for Claresia's own tools "
        "(not 'claresia_x')"
    ]


def test_a_knowledge_path_that_climbs_out_is_refused():
    problems = ir_validate(minimal_ir(knowledge=[{"path": "../secrets.txt"}]))
    assert len(problems) == 1
    assert problems[0] == (
        "knowledge[0].path: use a path inside the skill's folder, like docs/runbook.md: not "
        "starting with /, with no .. and no backslashes (not '../secrets.txt')"
    )


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"archetypes": ["Engineering Managers"]},
            "archetypes[0]: use lower-case letters, digits and single dashes, like "
            "engineering-managers (not 'Engineering Managers')",
        ),
        (
            {"parameters": [{"name": "Wrong_Field", "label": "W", "type": "string"}]},
            "parameters[0].name: start with a lower-case letter, then lower-case letters, "
            "digits and _, like severity (not 'Wrong_Field')",
        ),
        (
            {"tools": [{"name": "a b", "description": "d", "parameters": {"type": "object"}}]},
            "tools[0].name: use letters, digits, _ and - only (at most 64), like create_ticket "
            "(not 'a b')",
        ),
        (
            {"owner": "ana at example"},
            "owner: use an e-mail address, like ana@example.com (not 'ana at example')",
        ),
    ],
)
def test_a_pattern_problem_says_the_rule_in_words_never_the_regular_expression(document, problem):
    # when
    problems = ir_validate(minimal_ir(**document))

    # then
    assert problems == [problem]
    assert "^" not in problems[0] and "[a-z" not in problems[0]


def test_the_schema_is_served_to_signed_in_staff(client, staff):
    client.force_login(staff)
    response = client.get("/command-center/skill-ir.schema.json")
    assert response.status_code == 200
    assert response.json()["title"] == "Claresia Skill IR, version 1"


# ---- each form ----------------------------------------------------------------------------


def test_a_skill_folder_is_imported_with_its_knowledge_file_hashes(tenant):
    # when the fixture folder is imported
    report = _import(tenant, sources_from_path(SKILL_FOLDER))
    # then the skill exists with its knowledge file's SHA-256, size and media type
    assert [(s.skill_id, s.outcome) for s in report.imported] == [
        ("incident-postmortem", "created")
    ]
    file = KnowledgeFile.objects.get(skill__skill_id="incident-postmortem")
    assert (file.path, file.sha256, file.size, file.media_type) == (
        "references/postmortem-template.md",
        hashlib.sha256(TEMPLATE).hexdigest(),
        len(TEMPLATE),
        "text/markdown",
    )


def test_a_json_ir_file_is_imported(tenant, tmp_path):
    path = tmp_path / "prd.json"
    path.write_text(json.dumps(minimal_ir()))
    report = _import(tenant, sources_from_path(path))
    assert report.ok and Skill.objects.filter(tenant=tenant, skill_id="prd-review").exists()


def test_a_yaml_ir_file_reads_its_knowledge_from_beside_it(tenant, tmp_path):
    write_skill(tmp_path, minimal_ir(knowledge=[{"path": "guide.md"}]), {"guide.md": b"# G"})
    (tmp_path / "skill.yaml").rename(tmp_path / "prd.yml")
    report = _import(tenant, sources_from_path(tmp_path / "prd.yml"))
    assert report.ok
    assert KnowledgeFile.objects.get(skill__skill_id="prd-review").size == 3


def test_an_agent_skills_folder_maps_onto_the_ir(tenant, tmp_path):
    # given a SKILL.md folder with a reference file
    (tmp_path / "references").mkdir()
    (tmp_path / "references" / "checklist.md").write_text("- owner\n")
    (tmp_path / "SKILL.md").write_text(
        "---\nname: pipeline-hygiene\ndescription: Checks a sales pipeline.\n---\n"
        "# Pipeline hygiene\nFind stale deals.\n"
    )
    # when imported
    report = _import(tenant, sources_from_path(tmp_path))
    # then name → id, title-cased name, body → instructions, references → knowledge
    assert report.ok, report.refused
    skill = Skill.objects.get(tenant=tenant, skill_id="pipeline-hygiene")
    assert skill.name == "Pipeline Hygiene"
    assert skill.ir["instructions"] == "# Pipeline hygiene\nFind stale deals."
    assert skill.ir["knowledge"] == [{"path": "references/checklist.md"}]


def test_a_zip_of_several_skill_folders_is_imported(tenant):
    content = zip_bytes(
        {
            "a/skill.yaml": yaml.safe_dump(minimal_ir("skill-a")),
            "b/skill.json": json.dumps(minimal_ir("skill-b")),
        }
    )
    report = _import(tenant, sources_from_upload("skills.zip", content))
    assert sorted(s.skill_id for s in report.imported) == ["skill-a", "skill-b"]


def test_import_skills_command_imports_and_prints_one_line_per_skill(tenant, capsys):
    call_command("import_skills", "--tenant", tenant.slug, str(SKILL_FOLDER))
    assert capsys.readouterr().out == "incident-postmortem: created 1.0.0\n"


# ---- bad input ----------------------------------------------------------------------------


def test_an_invalid_skill_is_refused_and_nothing_of_it_is_written(tenant, tmp_path):
    write_skill(tmp_path, minimal_ir(version="one"))
    report = _import(tenant, sources_from_path(tmp_path))
    assert report.refused == [
        (
            str(tmp_path),
            [
                "version: use a version like 1.0.0: major.minor.patch, numbers without "
                "leading zeros (not 'one')"
            ],
        )
    ]
    assert not Skill.objects.exists()


def test_a_knowledge_file_missing_from_the_folder_is_refused(tenant, tmp_path):
    write_skill(tmp_path, minimal_ir(knowledge=[{"path": "missing.md"}]))
    report = _import(tenant, sources_from_path(tmp_path))
    assert report.refused == [
        (str(tmp_path), ["knowledge[0].path: missing.md is not in the skill folder"])
    ]


def test_a_knowledge_file_under_a_git_folder_is_refused_with_its_path(tenant, tmp_path):
    # given a SKILL.md folder whose references hold a .git folder
    (tmp_path / "references" / ".git").mkdir(parents=True)
    (tmp_path / "references" / ".git" / "config").write_text("[core]\n")
    (tmp_path / "SKILL.md").write_text(
        "---\nname: pipeline-hygiene\ndescription: Checks a sales pipeline.\n---\nFind deals.\n"
    )

    # when imported
    report = _import(tenant, sources_from_path(tmp_path))

    # then it is refused, naming the path, and nothing is written
    assert report.refused == [
        (
            str(tmp_path),
            [
                "knowledge[0].path: references/.git/config: a folder or file named .git cannot "
                "be published in the plugin's git repository; rename it"
            ],
        )
    ]
    assert not Skill.objects.exists()


def test_yaml_that_does_not_parse_is_refused_with_its_line(tenant):
    report = _import(tenant, sources_from_upload("s.yaml", b"id: [unclosed\nname: x\n"))
    assert report.refused[0][1][0].startswith("s.yaml: not valid YAML (line")


def test_one_bad_skill_in_a_zip_leaves_the_good_one_imported(tenant):
    content = zip_bytes(
        {
            "a/skill.yaml": yaml.safe_dump(minimal_ir("skill-a")),
            "b/skill.yaml": yaml.safe_dump(minimal_ir("skill-b", description="")),
        }
    )
    report = _import(tenant, sources_from_upload("skills.zip", content))
    assert [s.skill_id for s in report.imported] == ["skill-a"]
    assert report.refused == [("skills.zip/b", ["description: must not be empty"])]


def test_import_skills_command_exits_non_zero_listing_problems(tenant, tmp_path, capsys):
    write_skill(tmp_path, minimal_ir(name=""))
    with pytest.raises(CommandError, match="1 skill\\(s\\) refused, 0 imported"):
        call_command("import_skills", "--tenant", tenant.slug, str(tmp_path))
    assert "name: must not be empty" in capsys.readouterr().err


def test_import_skills_command_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="no tenant with slug 'nope'"):
        call_command("import_skills", "--tenant", "nope", str(SKILL_FOLDER))


# ---- versions and history -----------------------------------------------------------------


def test_a_newer_version_updates_the_skill_and_keeps_the_history(tenant, tmp_path):
    write_skill(tmp_path / "v1", minimal_ir())
    write_skill(tmp_path / "v2", minimal_ir(version="1.1.0", description="Sharper review."))
    _import(tenant, sources_from_path(tmp_path / "v1"))
    report = _import(tenant, sources_from_path(tmp_path / "v2"))
    assert [(s.outcome, s.previous_version) for s in report.imported] == [("updated", "1.0.0")]
    skill = Skill.objects.get(tenant=tenant)
    assert skill.description == "Sharper review."
    assert sorted(SkillVersion.objects.filter(skill=skill).values_list("version", flat=True)) == [
        "1.0.0",
        "1.1.0",
    ]


def test_the_same_version_with_other_content_is_refused(tenant, tmp_path):
    write_skill(tmp_path / "v1", minimal_ir())
    write_skill(tmp_path / "v1b", minimal_ir(description="Changed without a version bump."))
    _import(tenant, sources_from_path(tmp_path / "v1"))
    report = _import(tenant, sources_from_path(tmp_path / "v1b"))
    assert "is not newer than the stored 1.0.0" in report.refused[0][1][0]
    assert Skill.objects.get(tenant=tenant).description == minimal_ir()["description"]


def test_reimporting_an_identical_skill_is_unchanged(tenant):
    _import(tenant, sources_from_path(SKILL_FOLDER))
    report = _import(tenant, sources_from_path(SKILL_FOLDER))
    assert [s.outcome for s in report.imported] == ["unchanged"]


# ---- ZIP safety ---------------------------------------------------------------------------


def test_a_zip_entry_with_dotdot_is_refused(db):
    content = zip_bytes({"../evil/skill.yaml": yaml.safe_dump(minimal_ir())})
    with pytest.raises(SkillSourceError, match=r"absolute paths and '\.\.' are refused"):
        sources_from_upload("evil.zip", content)


def test_a_zip_entry_with_an_absolute_path_is_refused(db):
    content = zip_bytes({"/etc/skill.yaml": yaml.safe_dump(minimal_ir())})
    with pytest.raises(SkillSourceError, match="absolute paths"):
        sources_from_upload("evil.zip", content)


def test_a_zip_symlink_is_refused(db):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("skill.yaml", yaml.safe_dump(minimal_ir()))
        link = zipfile.ZipInfo("guide.md")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(SkillSourceError, match="symbolic links are refused"):
        sources_from_upload("link.zip", buffer.getvalue())


def test_a_zip_bomb_is_refused_without_being_unpacked(settings):
    # given a 1 MB import bound and a small ZIP that inflates to 50 MB
    settings.SKILLS_IMPORT_MAX_BYTES = 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("skill.yaml", yaml.safe_dump(minimal_ir()))
        archive.writestr("bomb.txt", b"\0" * (50 * 1024 * 1024))
    # then it is refused on its declared size
    with pytest.raises(SkillSourceError, match="refused without unpacking"):
        sources_from_upload("bomb.zip", buffer.getvalue())


def test_a_zip_that_lies_about_its_size_is_stopped_at_the_bound(settings):
    # given a ZIP whose headers declare tiny sizes but whose data inflates past the bound
    settings.SKILLS_IMPORT_MAX_BYTES = 64 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("skill.yaml", yaml.safe_dump(minimal_ir()))
        archive.writestr("big.txt", b"\0" * (1024 * 1024))
    data = bytearray(buffer.getvalue())
    _shrink_declared_sizes(data)
    # then reading stops at the bound instead of inflating everything
    with pytest.raises(SkillSourceError, match=r"unreadable|more than the 65536 bytes accepted"):
        sources_from_upload("liar.zip", bytes(data))


def _shrink_declared_sizes(data: bytearray) -> None:
    """Rewrite every uncompressed-size field in the central directory to 10 bytes."""
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        data[offset + 24 : offset + 28] = (10).to_bytes(4, "little")
        offset += 4


def test_too_many_zip_entries_are_refused(settings):
    settings.SKILLS_IMPORT_MAX_FILES = 5
    content = zip_bytes({f"f{i}.md": b"x" for i in range(6)})
    with pytest.raises(SkillSourceError, match="6 files in the archive, at most 5"):
        sources_from_upload("many.zip", content)


def test_a_symlink_in_a_skill_folder_is_refused(tmp_path):
    write_skill(tmp_path, minimal_ir())
    os.symlink("/etc/passwd", tmp_path / "passwd.md")
    with pytest.raises(SkillSourceError, match="symbolic links are refused"):
        sources_from_path(tmp_path)


def test_a_skill_id_whose_gpt_name_is_another_tenants_is_refused(db):
    # given: tenant alpha-eu has the skill incident-postmortem (GPT claresia-alpha-eu-incident-…)
    alpha = Tenant.objects.create(slug="alpha", name="Alpha")
    alpha_eu = Tenant.objects.create(slug="alpha-eu", name="Alpha EU")
    make_skill(alpha_eu, skill_id="incident-postmortem")

    # when: alpha imports eu-incident-postmortem, which would be named the same
    report = skills_import(
        tenant=alpha, sources=[SkillSource("x.yaml", minimal_ir("eu-incident-postmortem"))]
    )

    # then: refused with the reason, nothing stored
    assert report.refused == [
        (
            "x.yaml",
            [
                "id: the GPT name claresia-alpha-eu-incident-postmortem is already tenant "
                "alpha-eu's skill incident-postmortem: choose another skill id"
            ],
        )
    ]
    assert not alpha.skills.exists()
