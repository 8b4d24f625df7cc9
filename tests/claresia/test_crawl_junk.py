"""No URL of the project answers junk with a 5xx. Every URL pattern (the admin's included) is
requested as a superuser and as tenant staff: its path parameters filled with a real row of the
tenant, another tenant's row and junk; its query parameters (the page's own, and the ones the
pages take) set to junk (NUL, huge numbers, the calendar's last day, long unicode); its form
fields posted with junk. Each request runs in a transaction rolled back after it, so that one
request's writes never change what the next one sees."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from claresia.models import ArchetypeGroup
from claresia.scoping import TenantScopedAdminMixin, scope_to_user
from connectors.services import connector_connect
from skills.ir.importers import sources_from_path
from skills.models import PublishRun, Skill
from skills.services.imports import skills_import
from telemetry.hub.models import GovernanceEvent, HubRecord, ModelPrice
from telemetry.hub.services import hub_token_issue
from telemetry.models import PluginSkillMapping, PollCursor, TelemetryEvent
from tests.skills.helpers import SKILL_FOLDER

NUL = "a\x00b"
HUGE = "99999999999999999999"
LAST_DAY = "9999-12-31"
LONG = "ü😀\u202e" + "x" * 2000
# Every query parameter gets each of these once (NUL is answered before any view: cheap).
QUERY_JUNK = [NUL, HUGE, LAST_DAY, LONG]
FORM_JUNK = [NUL, HUGE, LONG]
# The parameters the Command Center, the record page and the admin read, whatever a page links.
KNOWN_PARAMETERS = [
    "tenant", "skill", "status", "estimated", "page", "period", "from", "to", "format", "chart",
    "q", "o", "p", "e", "all", "_popup", "_to_field", "_changelist_filters", "next",
    "app_label", "model_name", "field_name", "term",
]  # fmt: skip
NAME = re.compile(r'\bname="([^"]{1,80})"')
LINK_QUERY = re.compile(r'href="[^"?]*\?([^"#]*)"')
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def _leaves(patterns, prefix=()):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _leaves(pattern.url_patterns, (*prefix, pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield (*prefix, pattern.pattern)


def url_patterns() -> list[tuple]:
    """Every URL pattern of the project, as the chain of patterns from the root."""
    return list(_leaves(get_resolver().url_patterns))


def _model_of(parts) -> type | None:
    """The admin model whose URLs these are (`admin/<app>/<model>/…`), if any."""
    for model in admin.site._registry:
        prefix = f"{model._meta.app_label}/{model._meta.model_name}/"
        if any(str(part) == prefix for part in parts):
            return model
    return None


def _render(parts, values: dict[str, str]) -> str:
    """The path of a pattern chain with its parameters replaced by `values` (by name)."""
    path = ""
    for part in parts:
        text = str(part)
        if isinstance(part, RegexPattern):
            # The admin's app index: one of the listed app labels; its catch-all: anything.
            text = re.sub(
                r"\(\?P<(\w+)>([^)]*)\)",
                lambda m: values.get(m[1], m[2].split("|")[0] if "|" in m[2] else "junk"),
                text,
            ).strip("^$")
        else:
            text = CONVERTER.sub(lambda m: values[m["name"]], text)
        path += text
    return "/" + path


def _parameters(parts) -> dict[str, str]:
    """Each path parameter's converter (`int`, `str`, `path`) by name."""
    found = {}
    for part in parts:
        if isinstance(part, RegexPattern):
            found.update(dict.fromkeys(part.regex.groupindex, "str"))
        else:
            for m in CONVERTER.finditer(str(part)):
                found[m["name"]] = m["kind"] or "str"
    return found


@pytest.fixture
def world(tenant, other_tenant, superuser, staff):
    """Rows of every kind the URLs reach, in the staff's tenant and in another."""
    rows = {}
    for t in (tenant, other_tenant):
        ArchetypeGroup.objects.create(
            tenant=t, slug="engineering-managers", name="EMs", workspace_group_id="grp_em"
        )
        group = ArchetypeGroup.objects.create(
            tenant=t, slug="sre", name="SRE", workspace_group_id="grp_sre"
        )
        report = skills_import(tenant=t, sources=sources_from_path(SKILL_FOLDER))
        assert report.ok, report.refused
        skill = t.skills.get()
        connector = connector_connect(
            tenant=t, organization_id=f"org-{t.slug}", api_key=f"sk-compliance-{t.slug}"
        )
        record = HubRecord.objects.create(
            tenant=t, skill=skill, output="Done.", content_hash=f"hash-{t.slug}"
        )
        rows[t.slug] = {
            "tenant": t,
            ArchetypeGroup: group,
            "connector": connector,
            Skill: skill,
            PublishRun: PublishRun.objects.create(
                tenant=t, started_by=superuser, skill_ids=[skill.skill_id], total=1
            ),
            PollCursor: PollCursor.objects.create(tenant=t),
            TelemetryEvent: TelemetryEvent.objects.create(
                tenant=t,
                skill_ref=skill.skill_id,
                source=TelemetryEvent.Source.COMPLIANCE_API,
                source_event_id=f"evt-{t.slug}",
                event_type=TelemetryEvent.EventType.INVOKED,
                occurred_at=datetime(2026, 11, 25, tzinfo=UTC),
                gpt_name=f"claresia-{t.slug}-{skill.skill_id}",
                model="gpt-4o",
                raw={},
            ),
            "token": hub_token_issue(tenant=t, name="published GPTs").token,
            HubRecord: record,
            GovernanceEvent: GovernanceEvent.objects.create(
                tenant=t,
                kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
                message="No hub record.",
                dedupe_key=f"key-{t.slug}",
                occurred_at=datetime(2026, 11, 25, tzinfo=UTC),
                hub_record=record,
            ),
            PluginSkillMapping: PluginSkillMapping.objects.create(
                tenant=t, skills_used_id=f"skill_{t.slug}"
            ),
            ModelPrice: ModelPrice.objects.create(
                tenant=t,
                model="gpt-4o",
                input_usd_per_million=Decimal("2.5"),
                output_usd_per_million=Decimal("10"),
            ),
        }
    return rows


def _path_variants(parts, user, world) -> list[tuple[str, bool]]:
    """(path, is the real one) for a pattern: a row of the user's tenant, another's, junk."""
    params = _parameters(parts)
    if not params:
        return [(_render(parts, {}), True)]
    own, other = world["dainese"], world["othercorp"]
    model = _model_of(parts)
    real = {
        "run_id": own[PublishRun].pk,
        "event_id": own[GovernanceEvent].pk,
        "record_id": own[HubRecord].pk,
        "mapping_id": own[PluginSkillMapping].pk,
        "chart": "volume",
        "content_type_id": ContentType.objects.get_for_model(Skill).pk,
        "object_id": own[Skill].pk,
        "id": user.pk,
        "pk": own[Skill].pk,
        "url": "no-such-page/",
    }
    foreign = {
        **real,
        "record_id": other[HubRecord].pk,
        "mapping_id": other[PluginSkillMapping].pk,
        "object_id": other[Skill].pk,
    }
    if model is not None:
        manager = model._default_manager
        model_admin = admin.site._registry[model]
        if isinstance(model_admin, TenantScopedAdminMixin):
            mine = scope_to_user(manager.all(), user, tenant_path=model_admin.tenant_path)
            row, theirs = mine.order_by("pk").first(), manager.exclude(pk__in=mine).first()
        else:
            row, theirs = manager.order_by("pk").first(), None
        real["object_id"] = real["pk"] = row.pk if row is not None else 1
        if theirs is not None:
            foreign["object_id"] = foreign["pk"] = theirs.pk
    variants = [(_render(parts, {k: str(v) for k, v in real.items()}), True)]
    variants.append((_render(parts, {k: str(v) for k, v in foreign.items()}), False))
    for junk in (HUGE, "0", "ü😀" + "x" * 300):
        values = {
            name: junk if kind != "int" or junk.isdigit() else "0" for name, kind in params.items()
        }
        variants.append((_render(parts, values), False))
    return list(dict.fromkeys(variants))


def _reads_filters(parts) -> bool:
    """The list pages: the admin's changelists, the Command Center's and the record pages."""
    path = "".join(str(part) for part in parts)
    return path.startswith(("command-center/", "hub/")) or bool(
        _model_of(parts) and path.endswith(f"/{_model_of(parts)._meta.model_name}/")
    )


def _names_on(body: str) -> list[str]:
    """The query parameters a page links with, and the fields of its forms."""
    names = set(NAME.findall(body))
    for query in LINK_QUERY.findall(body):
        names.update(name for name, _ in parse_qsl(query.replace("&amp;", "&")))
    return sorted(names)


class Crawl:
    def __init__(self, client, user):
        self.client, self.user, self.failures, self.requests = client, user, [], 0
        client.raise_request_exception = False
        client.force_login(user)

    def request(self, method: str, path: str, data: dict | None = None):
        with transaction.atomic():
            if method == "get":
                query = urlencode(data or {})
                response = self.client.get(path + ("?" + query if query else ""))
            else:
                response = self.client.post(path, data or {})
            transaction.set_rollback(True)
        self.requests += 1
        if response.status_code >= 500:
            shown = {k: (v[:20] + "…" if len(v) > 20 else v) for k, v in (data or {}).items()}
            self.failures.append((method.upper(), path[:120], shown, response.status_code))
        if method == "post" and "_auth_user_id" not in self.client.session:
            self.client.force_login(self.user)  # the logout or password-change page did its job
        return response


def crawl(client, user, world) -> Crawl:
    run = Crawl(client, user)
    for parts in url_patterns():
        for path, is_real in _path_variants(parts, user, world):
            page = run.request("get", path)
            if not is_real:
                continue
            body = page.content.decode(errors="replace") if page.status_code == 200 else ""
            own = _names_on(body)
            if _reads_filters(parts):
                # A list page stops at the first filter it refuses: each of its own parameters
                # alone, so that none hides another.
                for name in own:
                    for junk in (HUGE, LAST_DAY, LONG):
                        run.request("get", path, {name: junk, "tenant": "dainese"})
            names = sorted({*KNOWN_PARAMETERS, *own})
            for shift, _ in enumerate(QUERY_JUNK):
                # Each parameter gets each junk value once; `tenant` stays the user's so that
                # the page reads the rest, except in one request of its own.
                junk = {
                    name: QUERY_JUNK[(i + shift) % len(QUERY_JUNK)] for i, name in enumerate(names)
                }
                run.request("get", path, {**junk, "tenant": "dainese"})
            run.request("get", path, {"tenant": LONG})
            fields = _names_on(body) or ["name"]
            for shift, _ in enumerate(FORM_JUNK):
                junk = {
                    name: FORM_JUNK[(i + shift) % len(FORM_JUNK)] for i, name in enumerate(fields)
                }
                run.request("post", path, {**junk, "tenant": "dainese"})
    return run


# The admin's date filters, handed a bare date by the junk, warn that it has no time zone.
@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")
@pytest.mark.parametrize("who", ["superuser", "staff"])
def test_no_url_answers_junk_with_a_5xx(client, world, superuser, staff, who):
    # given
    user = {"superuser": superuser, "staff": staff}[who]

    # when
    run = crawl(client, user, world)

    # then
    assert run.requests > 1000
    assert run.failures == [], "\n".join(map(str, run.failures))
