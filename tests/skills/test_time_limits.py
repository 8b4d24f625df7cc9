"""Publishing under its bounds: a tenant's marketplace is published by one session at a time,
wherever the workers run, and a publish stopped by its task's time limit leaves the lock and says
why on what the person reads (the run, the marketplace state, the drift column)."""

import re

import pytest
from django.conf import settings
from django.db import connection

from claresia.locks import LockClass
from claresia.time_limits import SoftTimeLimitExceeded
from connectors.services import connector_connect
from skills import tasks
from skills.models import PluginMarketplace, PluginPublishRun, PublishRun
from skills.targets.custom_gpt import publish as publish_module
from skills.targets.plugin.git import TenantRepository
from skills.targets.plugin.publish import PluginOutcome, plugin_publish
from tests.factories import COMPLIANCE_KEY
from tests.locks import other_session, taken_elsewhere
from tests.skills.gitserver import git

pytestmark = pytest.mark.integration
STOPPED = re.compile(r"^stopped after \d+ s: time limit$")


def _branches(bare) -> list[str]:
    return git("--git-dir", str(bare), "for-each-ref", "--format=%(refname)").split()


def _interrupt(*args, **kwargs):
    raise SoftTimeLimitExceeded()


@pytest.fixture
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")


@pytest.mark.parametrize(
    "task, setting",
    [
        (tasks.publish_run_task, "SKILLS_PUBLISH_SOFT_TIME_LIMIT"),
        (tasks.drift_check_tenant_task, "DRIFT_CHECK_SOFT_TIME_LIMIT"),
        (tasks.plugin_run_task, "PLUGIN_PUBLISH_SOFT_TIME_LIMIT"),
        (tasks.plugin_publish_tenant_task, "PLUGIN_PUBLISH_SOFT_TIME_LIMIT"),
    ],
)
def test_each_publish_task_has_a_soft_and_a_later_hard_time_limit(task, setting):
    assert task.soft_time_limit == getattr(settings, setting)
    assert task.time_limit > task.soft_time_limit


def test_a_publish_waits_for_another_sessions_publish_of_the_tenant_then_gives_up(
    _postgresql, bare, two_skills, tenant, settings
):
    # given another session (another worker host) publishing the tenant's marketplace
    settings.PLUGIN_PUBLISH_LOCK_WAIT = 0.2
    with other_session() as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [LockClass.PLUGIN_PUBLISH, tenant.pk])

        # when this one publishes too
        result = plugin_publish(tenant=tenant)

    # then it pushes nothing and says another publish is running
    assert result.outcome == PluginOutcome.FAILED
    assert "another publish of this tenant's plugin is running" in result.error
    assert _branches(bare) == []


def test_a_publish_holds_the_tenants_lock_against_every_other_session(
    _postgresql, bare, two_skills, tenant, monkeypatch
):
    # given a publish that looks, while it pushes, whether another session could take the lock
    seen = []
    push = TenantRepository.push

    def pushing(self, commit):
        seen.append(taken_elsewhere(LockClass.PLUGIN_PUBLISH, tenant.pk))
        return push(self, commit)

    monkeypatch.setattr(TenantRepository, "push", pushing)

    # when the marketplace is published
    result = plugin_publish(tenant=tenant)

    # then no other session could, and the lock is free afterwards
    assert result.outcome == PluginOutcome.PUBLISHED, result.error
    assert seen == [True]
    assert not taken_elsewhere(LockClass.PLUGIN_PUBLISH, tenant.pk)


def test_a_plugin_publish_stopped_by_its_time_limit_leaves_the_lock_and_says_why(
    bare, two_skills, tenant, monkeypatch, django_capture_on_commit_callbacks
):
    # given a push that the task's soft time limit interrupts
    monkeypatch.setattr(TenantRepository, "push", _interrupt)

    # when a plugin publish run is started (its task runs in-process on commit)
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.plugin_run_start(tenant=tenant, dry_run=False)

    # then the run and the marketplace say why, nothing was pushed, and the lock is free
    run = PluginPublishRun.objects.get(pk=run.pk)
    assert run.status == PluginPublishRun.Status.FAILED
    assert STOPPED.match(run.error)
    assert STOPPED.match(PluginMarketplace.objects.get(tenant=tenant).last_error)
    assert _branches(bare) == []
    if connection.vendor == "postgresql":
        assert not taken_elsewhere(LockClass.PLUGIN_PUBLISH, tenant.pk)
    # and the next publish, uninterrupted, pushes it
    monkeypatch.undo()
    assert plugin_publish(tenant=tenant).outcome == PluginOutcome.PUBLISHED


def test_a_publish_run_stopped_by_its_time_limit_says_why(
    sandbox, tenant, imported_skill, monkeypatch, django_capture_on_commit_callbacks
):
    # given a GPT publish that the task's soft time limit interrupts
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key=COMPLIANCE_KEY)
    monkeypatch.setattr(publish_module, "_publish_one", _interrupt)

    # when a publish run is started (its task runs in-process on commit)
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.publish_run_start(tenant=tenant, skill_ids=["incident-postmortem"])

    # then the run is failed, saying why, and no longer running
    run = PublishRun.objects.get(pk=run.pk)
    assert run.status == PublishRun.Status.FAILED
    assert STOPPED.match(run.error)
    assert run.finished_at is not None
