"""The demo tenant's three skills: imported by demo_load, publishable to the sandbox."""

import pytest

from demo.loader import DEMO_SKILL_IDS, demo_load, demo_skills_publish
from skills.models import Skill


def test_demo_load_imports_the_three_demo_skills(db):
    tenant, _ = demo_load(password="pw-for-tests-only")
    assert sorted(Skill.objects.filter(tenant=tenant).values_list("skill_id", flat=True)) == (
        DEMO_SKILL_IDS
    )


def test_demo_load_twice_leaves_the_skills_unchanged(db):
    demo_load(password="pw-for-tests-only")
    tenant, _ = demo_load(password="pw-for-tests-only")
    assert Skill.objects.filter(tenant=tenant).count() == 3


@pytest.mark.integration
def test_demo_skills_publish_to_the_sandbox(sandbox, db):
    tenant, _ = demo_load(password="pw-for-tests-only")
    report = demo_skills_publish(tenant)
    assert sorted(o.line() for o in report.outcomes) == [
        f"{skill_id}: created" for skill_id in DEMO_SKILL_IDS
    ]
    names = sorted(g["name"] for g in sandbox.state.org("org-dainese-demo").gpts.values())
    assert names == [
        "claresia-dainese-incident-postmortem",
        "claresia-dainese-pipeline-hygiene",
        "claresia-dainese-prd-review",
    ]
