"""Command Center → Distribution → Plugin: the remote (masked), the last commit, what is pending,
*Publish plugin* and *Dry run* queued as a task (editors only), the admin's one-time steps; and
the daily beat that publishes every tenant with a remote."""

from django.conf import settings as django_settings

from connectors.plugin_remote import plugin_remote_configure, plugin_remote_of
from skills.models import PluginPublishRun
from skills.tasks import plugin_publish_all_task
from tests.factories import make_user
from tests.skills.gitserver import TOKEN, git

PAGE = "/command-center/distribution/plugin/"
PUBLISH = "/command-center/distribution/plugin/publish"


def test_page_shows_the_remote_masked_the_pending_skills_and_the_steps(
    client, staff, bare, two_skills
):
    # given a tenant with a remote and two unpublished skills
    client.force_login(staff)
    # when its plugin page is opened
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    # then the remote is shown with the token masked, and the pending skills listed
    assert "dainese.git" in page and "…1234" in page and TOKEN not in page
    assert "incident-postmortem, prd-review" in page
    assert "Import marketplace" in page and "Sync now" in page
    assert "Workspace settings → Plugins" in page
    assert "Publish plugin" in page and "Dry run" in page


def test_publish_from_the_page_runs_the_task_and_shows_the_commit(
    client, staff, bare, two_skills, django_capture_on_commit_callbacks
):
    # given an editor on the plugin page
    client.force_login(staff)
    # when they press Publish plugin
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PUBLISH, {"tenant": "dainese"})
    # then the task ran, the remote has the commit, and the page shows it
    assert response.status_code == 302
    run = PluginPublishRun.objects.get()
    assert run.status == PluginPublishRun.Status.FINISHED and run.outcome == "published"
    head = git("--git-dir", str(bare), "rev-parse", "main").strip()
    assert run.commit == head
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    assert head[:8] in page and "No skill changed since the last commit." in page


def test_dry_run_from_the_page_pushes_nothing(
    client, staff, bare, two_skills, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PUBLISH, {"tenant": "dainese", "dry_run": "1"})
    run = PluginPublishRun.objects.get()
    assert run.dry_run and run.outcome == "dry run" and run.changes["would_commit"]
    assert git("--git-dir", str(bare), "for-each-ref").strip() == ""
    assert "a commit would be pushed" in client.get(PAGE, {"tenant": "dainese"}).content.decode()


def test_a_failed_publish_is_on_the_page_in_one_line(
    client, staff, remotes, two_skills, tenant, django_capture_on_commit_callbacks
):
    plugin_remote_configure(tenant=tenant, url="http://127.0.0.1:9/nobody.git", token=TOKEN)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PUBLISH, {"tenant": "dainese"})
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    assert "plugin remote unreachable" in page
    assert PluginPublishRun.objects.get().status == PluginPublishRun.Status.FAILED


def test_a_viewer_sees_the_page_but_cannot_publish(client, tenant, bare, two_skills):
    viewer = make_user("viewer", tenants=[tenant], role="viewer")
    client.force_login(viewer)
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    assert "Publish plugin" not in page
    assert client.post(PUBLISH, {"tenant": "dainese"}).status_code == 403
    assert not PluginPublishRun.objects.exists()


def test_another_tenant_s_plugin_page_is_not_found(client, staff, other_tenant):
    client.force_login(staff)
    assert client.get(PAGE, {"tenant": other_tenant.slug}).status_code == 404
    assert client.post(PUBLISH, {"tenant": other_tenant.slug}).status_code == 404


def test_publish_is_post_only(client, staff, bare):
    client.force_login(staff)
    assert client.get(PUBLISH, {"tenant": "dainese"}).status_code == 405


def test_the_daily_beat_publishes_every_tenant_with_a_remote(bare, two_skills):
    # given the beat's entry
    entry = django_settings.CELERY_BEAT_SCHEDULE["skills-plugin-publish-daily"]
    assert entry["task"] == "skills.tasks.plugin_publish_all_task"
    # when it runs (in-process: no broker)
    assert plugin_publish_all_task() == 1
    # then the tenant's marketplace was pushed
    assert git("--git-dir", str(bare), "log", "--format=%s", "main").startswith("Update claresia")


# ---- the remote, set in the page ----------------------------------------------------------

REMOTE = "/command-center/distribution/plugin/remote"
NEW_TOKEN = "ghp_page-set-token-5678"


def test_a_tenant_admin_sets_the_remote_on_the_page(client, staff, tenant):
    # given a tenant without a remote
    client.force_login(staff)
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    assert "Set the repository" in page and "manage.py" not in page
    assert "Leave blank to keep the stored token" not in page

    # when the admin saves a URL and a token
    response = client.post(
        REMOTE,
        {"tenant": "dainese", "url": "https://github.com/acme/plugins.git", "token": NEW_TOKEN},
    )

    # then the remote is stored, the token encrypted and shown masked
    assert response.status_code == 302
    remote = plugin_remote_of(tenant=tenant)
    assert remote.url == "https://github.com/acme/plugins.git" and remote.has_token
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    assert "…5678" in page and NEW_TOKEN not in page
    assert "Leave blank to keep the stored token (…5678)" in page


def test_a_superuser_sets_any_tenants_remote(client, superuser, tenant):
    client.force_login(superuser)
    response = client.post(
        REMOTE,
        {"tenant": "dainese", "url": "https://gitlab.com/acme/plugins.git", "token": NEW_TOKEN},
    )
    assert response.status_code == 302
    assert plugin_remote_of(tenant=tenant).url == "https://gitlab.com/acme/plugins.git"


def test_a_viewer_sees_no_form_and_cannot_set_the_remote(client, tenant):
    # given
    viewer = make_user("viewer", tenants=[tenant], role="viewer")
    client.force_login(viewer)

    # when
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    response = client.post(
        REMOTE, {"tenant": "dainese", "url": "https://github.com/a/b.git", "token": NEW_TOKEN}
    )

    # then
    assert "Save repository" not in page
    assert response.status_code == 403
    assert plugin_remote_of(tenant=tenant) is None


def test_a_bad_url_is_said_beside_it_and_the_pasted_token_is_kept(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    response = client.post(
        REMOTE,
        {"tenant": "dainese", "url": "ssh://github.com/acme/plugins.git", "token": NEW_TOKEN},
    )

    # then nothing is stored, the reason is beside the field, the token is still in the form
    assert response.status_code == 400
    page = response.content.decode()
    assert "Only HTTPS git remotes are supported" in page
    assert f'value="{NEW_TOKEN}"' in page
    assert plugin_remote_of(tenant=tenant) is None


def test_a_short_token_is_refused_in_the_form(client, staff, tenant):
    client.force_login(staff)
    response = client.post(
        REMOTE, {"tenant": "dainese", "url": "https://github.com/a/b.git", "token": "x"}
    )
    assert response.status_code == 400
    assert "at least 16" in response.content.decode()
    assert plugin_remote_of(tenant=tenant) is None
