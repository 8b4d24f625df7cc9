"""The admin's custom pages speak to a customer's staff: Django's own breadcrumbs, and each
error under the field it is about."""

import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ADMIN_TEMPLATES = sorted((ROOT / "templates" / "admin").rglob("*.html"))
IMPORT = "/admin/skills/skill/import/"


def _form_row(page: str, field: str) -> str:
    match = re.search(
        rf'<div class="form-row field-{field}[^"]*">(.*?)</div>\s*'
        r'(?=<div class="form-row|</fieldset>)',
        page,
        re.S,
    )
    assert match, f"no form row for {field}"
    return match.group(0)


def test_a_missing_file_is_said_under_the_file_field_not_under_tenant(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    page = client.post(IMPORT, {"tenant": tenant.pk}).content.decode()

    # then
    file_row = _form_row(page, "file")
    assert "Choose a file to import" in file_row
    assert 'class="form-row field-file errors"' in file_row
    assert "errorlist" not in _form_row(page, "tenant")


def test_an_unreadable_upload_is_said_under_the_file_field(client, staff, tenant):
    # given
    client.force_login(staff)
    upload = io.BytesIO(b"not a zip")
    upload.name = "skills.zip"

    # when
    page = client.post(IMPORT, {"tenant": tenant.pk, "file": upload}).content.decode()

    # then
    assert "errorlist" in _form_row(page, "file")
    assert "errorlist" not in _form_row(page, "tenant")


def test_the_import_page_has_djangos_breadcrumbs(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    page = client.get(IMPORT).content.decode()

    # then: the markup Django's admin CSS styles (an <ol>, not a bare <div>)
    assert '<ol class="breadcrumbs">' in page
    assert '<li aria-current="page">Import</li>' in page


def test_the_custom_admin_pages_are_found():
    # then: the check below reads the skills admin's own pages, not an empty list
    assert {"import.html", "bundle.html", "publish_plan.html"} <= {p.name for p in ADMIN_TEMPLATES}


@pytest.mark.parametrize("template", ADMIN_TEMPLATES, ids=lambda p: p.name)
def test_no_custom_admin_page_uses_the_unstyled_breadcrumbs(template):
    # then: Django 6's admin styles ol.breadcrumbs only; a div sits flush against the edge
    assert 'div class="breadcrumbs"' not in template.read_text(encoding="utf-8")
