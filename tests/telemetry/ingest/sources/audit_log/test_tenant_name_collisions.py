"""Tenants whose slugs share a prefix (`alpha`, `alpha-eu`) on one OpenAI org: a GPT name
`claresia-{tenant}-{skill}` maps to exactly one (tenant, skill). A publish never takes over
another tenant's GPT, and an audit event is stored, priced and flagged in one tenant only."""

import time

import pytest

from claresia.models import Tenant
from connectors.services import connector_connect
from skills.models import Skill
from skills.targets.custom_gpt.publish import skills_publish
from telemetry.ingest.sources.audit_log.poller import telemetry_poll
from telemetry.models import TelemetryEvent
from tests.factories import COMPLIANCE_KEY
from tests.skills.helpers import minimal_ir
from tests.telemetry.helpers import event

pytestmark = pytest.mark.integration
ORG = "org-shared"


def _tenant_with_skill(slug: str, skill_id: str) -> Tenant:
    tenant = Tenant.objects.create(slug=slug, name=slug.title())
    connector_connect(tenant=tenant, organization_id=ORG, api_key=COMPLIANCE_KEY)
    # Created as rows: an import would refuse the colliding skill id, the first line of defence.
    Skill.objects.create(
        tenant=tenant,
        skill_id=skill_id,
        name="Incident Postmortem",
        version="1.0.0",
        description="Writes a postmortem.",
        ir=minimal_ir(skill_id, name="Incident Postmortem"),
    )
    return tenant


@pytest.fixture
def alpha(db):
    return _tenant_with_skill("alpha", "eu-incident-postmortem")


@pytest.fixture
def alpha_eu(db):
    return _tenant_with_skill("alpha-eu", "incident-postmortem")


def test_a_publish_never_takes_over_another_tenants_same_named_gpt(sandbox, alpha, alpha_eu):
    # given: alpha-eu's GPT claresia-alpha-eu-incident-postmortem is published
    assert skills_publish(tenant=alpha_eu).ok
    theirs = dict(next(iter(sandbox.state.org(ORG).gpts.values())))

    # when: alpha publishes its skill eu-incident-postmortem, whose GPT name is the same
    report = skills_publish(tenant=alpha)

    # then: alpha's publish fails with a clear reason, and alpha-eu's GPT is untouched
    [outcome] = report.outcomes
    assert outcome.outcome == "failed"
    assert "tenant alpha-eu, skill incident-postmortem" in outcome.detail
    assert [dict(g) for g in sandbox.state.org(ORG).gpts.values()] == [theirs]


def test_an_audit_event_is_stored_in_the_tenant_whose_gpt_it_names_only(sandbox, alpha, alpha_eu):
    # given: one event of alpha-eu's GPT on the org both tenants poll
    sandbox.state.add_events(
        ORG,
        [event("audit_log-eu", int(time.time()) - 60, gpt="claresia-alpha-eu-incident-postmortem")],
    )

    # when both tenants poll
    telemetry_poll(tenant=alpha)
    telemetry_poll(tenant=alpha_eu)

    # then: one row, alpha-eu's, with its skill
    rows = list(TelemetryEvent.objects.values_list("tenant__slug", "skill_ref", "skill_unknown"))
    assert rows == [("alpha-eu", "incident-postmortem", False)]
