"""The demo tenant that `make run` loads: Dainese, connected to the OpenAI sandbox, with the three
demo skills kept as IR folders under demo/skills/.

Safe to run again: it updates what exists.
"""

import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from claresia.models import ArchetypeGroup, Tenant, TenantMembership
from connectors.sandbox.chatgpt_admin import gpt_object, plugin_object
from connectors.selectors import PublishMode, connector_of
from connectors.services import connector_connect, connector_test_connection
from skills.ir.importers import sources_from_path
from skills.selectors import gpt_publications
from skills.services.bundles import tenant_context
from skills.services.imports import ImportReport, skills_import
from skills.targets.custom_gpt.publish import PublishReport, skills_publish
from skills.targets.plugin.build import plugin_name
from skills.targets.plugin.marketplace import marketplace_name
from skills.targets.plugin.publish import plugin_marketplace_read

DEMO_SKILLS_DIR = Path(__file__).resolve().parent / "skills"
DEMO_SKILL_IDS = ["incident-postmortem", "pipeline-hygiene", "prd-review"]

DEMO_TENANT = "dainese"
DEMO_ORG_ID = "org-dainese-demo"
# The demo's ChatGPT workspace: its telemetry flows through the sandbox's Logs Platform.
DEMO_WORKSPACE_ID = "d41e5e00-0000-4000-8000-000000000001"
# The sandbox accepts any key containing "compliance" as a Compliance-scope key.
DEMO_API_KEY = "sk-compliance-dainese-demo-0000"
DEMO_ARCHETYPES = [
    ("engineering-managers", "Engineering managers", "grp_engineering_managers"),
    ("sre", "Site reliability engineers", "grp_sre"),
    ("product-managers", "Product managers", "grp_product_managers"),
]
DEMO_STAFF = "dainese-staff"
DEMO_SUPERUSER = "claresia-admin"


@dataclass(frozen=True)
class DemoLogins:
    staff_username: str
    superuser_username: str
    staff_password: str
    superuser_password: str


@transaction.atomic
def demo_load(*, password: str | None = None) -> tuple[Tenant, DemoLogins]:
    tenant, _ = Tenant.objects.update_or_create(
        slug=DEMO_TENANT,
        defaults={"name": "Dainese", "deployment_mode": Tenant.DeploymentMode.A},
    )
    for slug, name, group_id in DEMO_ARCHETYPES:
        ArchetypeGroup.objects.update_or_create(
            tenant=tenant, slug=slug, defaults={"name": name, "workspace_group_id": group_id}
        )
    connector_connect(
        tenant=tenant,
        organization_id=DEMO_ORG_ID,
        api_key=DEMO_API_KEY,
        publish_mode=PublishMode.AUTOMATED,
        workspace_id=DEMO_WORKSPACE_ID,
    )
    # Two logins, two passwords (one shared password would let tenant staff log in as Claresia
    # staff); a given --password is both, for tests and screenshots.
    staff_password = password or secrets.token_urlsafe(12)
    superuser_password = password or secrets.token_urlsafe(12)
    users = get_user_model().objects
    staff, _ = users.update_or_create(
        username=DEMO_STAFF,
        defaults={"is_staff": True, "is_superuser": False, "email": "staff@dainese.example"},
    )
    staff.set_password(staff_password)
    staff.save()
    TenantMembership.objects.update_or_create(
        user=staff, tenant=tenant, defaults={"role": TenantMembership.Role.ADMIN}
    )
    admin, _ = users.update_or_create(
        username=DEMO_SUPERUSER,
        defaults={"is_staff": True, "is_superuser": True, "email": "admin@claresia.example"},
    )
    admin.set_password(superuser_password)
    admin.save()
    demo_skills_import(tenant)
    return tenant, DemoLogins(DEMO_STAFF, DEMO_SUPERUSER, staff_password, superuser_password)


def demo_test_connection(tenant: Tenant):
    """The demo tenant's connector, tested against the sandbox (its status and last error set)."""
    return connector_test_connection(connector=connector_of(tenant=tenant))


def demo_skills_import(tenant: Tenant) -> ImportReport:
    sources = []
    for skill_id in DEMO_SKILL_IDS:
        sources += sources_from_path(DEMO_SKILLS_DIR / skill_id)
    report = skills_import(tenant=tenant, sources=sources)
    if not report.ok:
        raise ValueError(f"demo skills refused: {report.refused}")
    return report


def demo_skills_publish(tenant: Tenant) -> PublishReport:
    """Publish the demo skills to the sandbox (the seed's modelled path; unchanged ones make
    no call), then put them in the sandbox workspace's GPT inventory, as a workspace builder
    following the export would: the Logs Platform's gpt ids then map to the skills."""
    report = skills_publish(tenant=tenant, skill_ids=DEMO_SKILL_IDS)
    demo_workspace_gpts(tenant)
    demo_workspace_plugin(tenant)
    return report


def demo_workspace_plugin(tenant: Tenant) -> None:
    """The tenant's plugin in the sandbox workspace's plugin inventory, as a workspace admin's
    import of its marketplace leaves it (chatgpt-admin-api.md → Plugins): its skills are what the
    demo's traffic uses as plugin skills."""
    context = tenant_context(tenant)
    state = plugin_marketplace_read(tenant=tenant)
    plugin = plugin_object(
        plugin_id=f"plg_{tenant.slug}",
        name=plugin_name(context),
        marketplace_name=marketplace_name(context),
        display_name=f"Claresia · {tenant.slug}",
        version=state.last_plugin_version or "1.0.0",
    )
    control = settings.CHATGPT_ADMIN_API_BASE.removesuffix("/v1")
    httpx.post(
        f"{control}/_sandbox/compliance/plugins/{DEMO_WORKSPACE_ID}",
        json={"plugins": [plugin]},
        timeout=10,
    ).raise_for_status()


def demo_workspace_gpts(tenant: Tenant) -> None:
    """The published demo GPTs, in the sandbox workspace's real GPT inventory."""
    hub_host = urlsplit(tenant.hub_base).hostname or ""
    gpts = [
        gpt_object(
            gpt_id=publication.gpt_id,
            name=publication.skill.gpt_name,
            description=publication.skill.description,
            owner_email="builder@dainese.example",
            action_domain=hub_host,
            # The GPT was built from the publish: its config dates from then, not a day before.
            created_at=int(publication.published_at.timestamp())
            if publication.published_at
            else None,
        )
        for publication in gpt_publications(tenant=tenant)
    ]
    control = settings.CHATGPT_ADMIN_API_BASE.removesuffix("/v1")
    httpx.post(
        f"{control}/_sandbox/compliance/gpts/{DEMO_WORKSPACE_ID}", json={"gpts": gpts}, timeout=10
    ).raise_for_status()
