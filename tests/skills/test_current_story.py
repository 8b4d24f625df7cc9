"""The pages tell the current story: plugins and the app first, Custom GPTs until 2026-12-11 (a
dated notice on the overview and Distribution), GPTs built by hand from the export (ChatGPT has
no bulk import), and no internal words."""

import io
import zipfile

import pytest

from skills.targets.custom_gpt.export import skills_export

pytestmark = pytest.mark.django_db

INTERNAL = ("seed", "Step 6", "chatgpt-admin-api.md", "manage.py", "Bulk import")


@pytest.mark.parametrize("url", ["/command-center/", "/command-center/distribution/"])
def test_the_overview_and_distribution_date_the_retirement_of_custom_gpts(client, staff, url):
    client.force_login(staff)
    page = client.get(url, {"tenant": "dainese"}).content.decode()
    assert "Custom GPTs retire on 2026-12-11" in page
    assert "/command-center/distribution/plugin/" in page


def test_the_export_page_gives_build_by_hand_steps_not_a_bulk_import(client, staff, imported_skill):
    client.force_login(staff)
    page = client.get("/command-center/distribution/openai/export/").content.decode()
    assert "build by hand" in page.lower() and "Explore GPTs → Create" in page
    for word in INTERNAL:
        assert word not in page, word


def test_each_bundle_readme_is_in_the_customers_words(tenant, imported_skill):
    # when
    result = skills_export(tenant=tenant)

    # then
    (bundle,) = result.bundles.values()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        readme = archive.read("README.md").decode()
    assert "Build this GPT by hand, step by step" in readme and "2026-12-11" in readme
    for word in INTERNAL:
        assert word not in readme, word


def test_a_manual_export_tenant_reads_how_its_gpts_are_made(client, staff, tenant):
    # given a tenant whose GPTs OpenAI does not let Claresia create
    from connectors.services import connector_connect, connector_switch_to_manual_export

    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-compliance-abcd")
    connector_switch_to_manual_export(tenant=tenant)
    client.force_login(staff)

    # when
    page = client.get("/command-center/", {"tenant": "dainese"}).content.decode()

    # then
    assert "By hand, from the Export page (a ZIP of steps per GPT)" in page
    assert "bulk import" not in page.lower()


def test_publishing_refused_by_openai_says_what_to_do_in_the_customers_words():
    # given
    from connectors.openai.errors import PUBLISH_DISABLED_MESSAGE

    # then
    assert "by hand" in PUBLISH_DISABLED_MESSAGE and "Export" in PUBLISH_DISABLED_MESSAGE
    for word in INTERNAL:
        assert word not in PUBLISH_DISABLED_MESSAGE, word
