"""Every text field of a skill is bounded in length and refuses NUL and control characters, as a
problem with its path, through the service, the admin upload and `import_skills` (never a 500 or
a traceback: PostgreSQL refuses NUL and over-long values only once they are written)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from skills.ir.importers import sources_from_upload
from skills.ir.validation import ir_validate
from skills.models import Skill
from skills.services.imports import skills_import
from tests.skills.helpers import minimal_ir

TOOL = {
    "name": "lookup",
    "description": "Looks it up.",
    "parameters": {
        "type": "object",
        "properties": {"q": {"type": "string", "description": "The query."}},
    },
    "http": {"method": "GET", "url": "https://example.com/lookup"},
}
FULL = minimal_ir(
    parameters=[
        {
            "name": "level",
            "label": "Level",
            "type": "enum",
            "description": "How bad.",
            "choices": ["low", "high"],
            "default": "low",
        }
    ],
    conversation_starters=["Review my PRD"],
    tools=[TOOL],
    knowledge=[{"path": "guide.md", "description": "The guide."}],
    archetypes=["sre"],
    model="gpt-4o",
    owner="pm@example.com",
)
# Every text field of the IR, as (path in the document, path in the problem).
TEXT_FIELDS = [
    (["id"], "id"),
    (["name"], "name"),
    (["version"], "version"),
    (["description"], "description"),
    (["instructions"], "instructions"),
    (["parameters", 0, "name"], "parameters[0].name"),
    (["parameters", 0, "label"], "parameters[0].label"),
    (["parameters", 0, "description"], "parameters[0].description"),
    (["parameters", 0, "choices", 1], "parameters[0].choices[1]"),
    (["parameters", 0, "default"], "parameters[0].default"),
    (["conversation_starters", 0], "conversation_starters[0]"),
    (["tools", 0, "name"], "tools[0].name"),
    (["tools", 0, "description"], "tools[0].description"),
    (
        ["tools", 0, "parameters", "properties", "q", "description"],
        "tools[0].parameters.properties.q.description",
    ),
    (["tools", 0, "http", "url"], "tools[0].http.url"),
    (["knowledge", 0, "path"], "knowledge[0].path"),
    (["knowledge", 0, "description"], "knowledge[0].description"),
    (["archetypes", 0], "archetypes[0]"),
    (["model"], "model"),
    (["owner"], "owner"),
]


def _with(path: list, change) -> dict:
    document = json.loads(json.dumps(FULL))
    holder = document
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = change(holder[path[-1]])
    return document


def _json_upload(document: dict) -> list:
    return sources_from_upload("skill.json", json.dumps(document).encode())


@pytest.mark.parametrize(("path", "where"), TEXT_FIELDS, ids=[w for _, w in TEXT_FIELDS])
def test_a_nul_in_any_text_field_is_a_problem_at_its_path(tenant, path, where):
    # given a skill.json with a NUL inside one text field
    document = _with(path, lambda value: value[:2] + "\x00" + value[2:])
    # when it is imported
    report = skills_import(tenant=tenant, sources=_json_upload(document))
    # then it is refused with that field's path, and nothing is written
    assert report.refused == [
        (
            "skill.json",
            [
                f"{where}: contains the control character U+0000 at position 3; only tabs and "
                "line breaks are accepted"
            ],
        )
    ]
    assert not Skill.objects.exists()


@pytest.mark.parametrize(("path", "where"), TEXT_FIELDS, ids=[w for _, w in TEXT_FIELDS])
def test_a_100000_character_value_in_any_text_field_is_a_problem_at_its_path(tenant, path, where):
    # given a skill.json with one text field 100,000 characters long, pattern kept
    document = _with(path, lambda value: value[:1] + "a" * 100_000 + value[1:])
    # when it is imported
    report = skills_import(tenant=tenant, sources=_json_upload(document))
    # then it is refused at that path, saying the bound
    ((_, problems),) = report.refused
    assert [p for p in problems if p.startswith(f"{where}: must be at most ")], problems
    assert not Skill.objects.exists()


def test_a_100000_character_version_is_refused_saying_by_how_much(tenant):
    document = minimal_ir(version="1.0.0-" + "a" * 100_000)
    report = skills_import(tenant=tenant, sources=_json_upload(document))
    assert report.refused == [
        ("skill.json", ["version: must be at most 32 characters (is 100,006)"])
    ]


@pytest.mark.parametrize(
    ("character", "name"),
    [("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085"), ("\x08", "U+0008")],
)
def test_other_control_characters_are_refused_too(character, name):
    problems = ir_validate(minimal_ir(description=f"a{character}b"))
    assert problems == [
        f"description: contains the control character {name} at position 2; only tabs and "
        "line breaks are accepted"
    ]


def test_tabs_and_line_breaks_are_accepted_where_text_runs_over_lines():
    assert (
        ir_validate(minimal_ir(instructions="Step 1\n\tRead.\r\nStep 2", description="a\nb")) == []
    )


def test_a_one_line_field_refuses_a_line_break():
    assert ir_validate(minimal_ir(name="PRD\nReview")) == [
        "name: must be one line (it contains a line break or tab)"
    ]


def test_an_unpaired_surrogate_is_refused():
    # given JSON's escape of half a surrogate pair, which no UTF-8 column can store
    document = json.loads(json.dumps(minimal_ir()).replace("PRD Review", "PRD \\ud800"))
    assert ir_validate(document) == [
        "name: contains U+D800 at position 5, half of a surrogate pair: not valid text"
    ]


def test_keys_and_numbers_inside_tool_parameters_must_be_json(tenant):
    # given tool parameters with a non-text key, a NUL in a key and a number that is not finite
    yaml_text = (
        json.dumps(minimal_ir())[:-1]
        + ', "tools": [{"name": "t", "description": "d", "parameters": '
        '{"type": "object", "maximum": NaN, "properties": {"a\\u0000": {}}}}]}'
    )
    # when it is imported
    report = skills_import(
        tenant=tenant, sources=sources_from_upload("skill.json", yaml_text.encode())
    )
    # then each is a problem at its path
    assert report.refused == [
        (
            "skill.json",
            [
                "tools[0].parameters.maximum: must be a finite number",
                "tools[0].parameters.properties: the key 'a\\x00' contains the control "
                "character U+0000 at position 2; only tabs and line breaks are accepted",
            ],
        )
    ]


def test_a_yaml_key_that_is_not_text_is_a_problem_at_its_path(tenant):
    text = json.dumps(minimal_ir())[:-1] + ', "tools": [{"name": "t", "description": "d", '
    text += '"parameters": {"type": "object", "properties": {1: {}}}}]}'
    report = skills_import(tenant=tenant, sources=sources_from_upload("s.yaml", text.encode()))
    assert report.refused == [
        ("s.yaml", ["tools[0].parameters.properties: the key 1 is not text; quote it"])
    ]


# ---- through the admin and the command ------------------------------------------------------


def test_the_admin_upload_lists_a_nul_as_a_field_error(client, staff, tenant):
    # given a skill.json with a NUL in its name
    client.force_login(staff)
    upload = io.BytesIO(json.dumps(minimal_ir(name="PRD\x00Review")).encode())
    upload.name = "skill.json"
    # when it is uploaded
    response = client.post("/admin/skills/skill/import/", {"tenant": tenant.pk, "file": upload})
    # then the page lists it with its path, and nothing is imported
    assert response.status_code == 200
    assert b"name: contains the control character U+0000 at position 4" in response.content
    assert not Skill.objects.exists()


def test_the_command_prints_one_line_per_problem_and_exits_non_zero(tenant, tmp_path, capsys):
    # given a skill.json with a NUL in its description and a 100,000-character version
    path = tmp_path / "skill.json"
    path.write_text(json.dumps(minimal_ir(description="a\x00b", version="1.0.0-" + "a" * 100_000)))
    # when the command imports it
    with pytest.raises(CommandError, match=r"1 skill\(s\) refused, 0 imported"):
        call_command("import_skills", "--tenant", tenant.slug, str(path))
    # then each problem is one line on stderr, with no traceback
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: description: contains the control character U+0000 at position 2; only tabs "
        "and line breaks are accepted",
        f"{path}: version: must be at most 32 characters (is 100,006)",
    ]


def test_a_problem_names_a_long_value_without_repeating_all_of_it():
    # given an unknown key and an id of 5,000 characters each
    document = minimal_ir(id="-" * 5000, **{"k" * 5000: 1})
    # when validated, then each problem shows the start of the value and its length
    assert ir_validate(document) == [
        f"(document): unknown key {'k' * 60}… (5,000 characters)",
        "id: must be at most 48 characters (is 5,000)",
    ]


def test_a_pattern_is_not_matched_against_text_over_its_field_bound():
    # given an owner of 200,000 characters that makes the e-mail pattern backtrack quadratically
    document = minimal_ir(owner="a@" + "b." * 100_000 + " ")
    # when validated, then it is refused on its length at once
    assert ir_validate(document) == ["owner: must be at most 254 characters (is 200,003)"]
