"""Command Center → Telemetry (the dashboard and its CSVs, the plugin skills' `skills_used`
mapping) and → Records. Views parse the
period and filters, call the selectors of telemetry/dashboard.py and telemetry/selectors.py, and
render."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from command_center.pages import can_edit, command_center_page, editable_page_tenant, page_tenant
from skills.selectors import skills_of
from telemetry.dashboard import (
    CSV_CHARTS,
    DEFAULT_PRESET,
    PRESETS,
    PeriodError,
    dashboard_csv,
    dashboard_period,
    telemetry_dashboard,
)
from telemetry.ingest.sources.logs_platform.plugin_skills import (
    MappingError,
    MappingNotFound,
    plugin_skill_mapping_set,
)
from telemetry.selectors import (
    hub_record_statuses,
    hub_records_filtered,
    hub_records_total,
    plugin_skill_mappings,
)

RECORDS_PER_PAGE = 25


def _period(request):
    return dashboard_period(
        now=timezone.now(),
        preset=request.GET.get("period", ""),
        start=request.GET.get("from", "").strip(),
        end=request.GET.get("to", "").strip(),
    )


@command_center_page
@require_GET
def telemetry_page(request):
    tenant, tenants = page_tenant(request)
    error, status = "", 200
    try:
        period = _period(request)
    except PeriodError as exc:
        # Bad input: say so and show the default period rather than guess what was meant.
        error, status = exc.user_message, 400
        period = dashboard_period(now=timezone.now(), preset=DEFAULT_PRESET)
    dashboard = telemetry_dashboard(tenant=tenant, period=period)
    return render(
        request,
        "command_center/telemetry.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "telemetry",
            "dashboard": dashboard,
            "chart_data": dashboard.chart_data(),
            "presets": list(PRESETS),
            "error": error,
            "period_query": _period_query(request, period),
            # A rejected range keeps what was typed, to be corrected rather than retyped.
            "from_value": request.GET.get("from", "") if period.is_custom or error else "",
            "to_value": request.GET.get("to", "") if period.is_custom or error else "",
        },
        status=status,
    )


def _period_query(request, period) -> str:
    if not period.is_custom:
        return f"period={period.preset}"
    return f"from={request.GET.get('from', '')}&to={request.GET.get('to', '')}"


@command_center_page
@require_GET
def telemetry_csv(request, chart: str):
    tenant, _ = page_tenant(request)
    if chart not in CSV_CHARTS:
        raise Http404("No such chart.")
    try:
        period = _period(request)
    except PeriodError as exc:
        return HttpResponse(exc.user_message, status=400, content_type="text/plain")
    body = dashboard_csv(tenant=tenant, period=period, chart=chart)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = f"{period.start:%Y%m%dT%H%M}-{period.end:%Y%m%dT%H%M}"
    response["Content-Disposition"] = (
        f'attachment; filename="claresia-{tenant.slug}-{chart}-{stamp}.csv"'
    )
    return response


@command_center_page
@require_GET
def records_page(request):
    tenant, tenants = page_tenant(request)
    skills = skills_of(tenant=tenant)
    skill = request.GET.get("skill", "")
    status = request.GET.get("status", "")
    estimated = request.GET.get("estimated", "")
    period, error = None, ""
    preset = request.GET.get("period", "")
    try:
        if preset in PRESETS:  # chosen on this page: wins over the dates a link brought
            period = dashboard_period(now=timezone.now(), preset=preset)
        elif preset or request.GET.get("from") or request.GET.get("to"):
            period = _period(request)
    except PeriodError as exc:
        error = f"{exc.user_message} Showing records of any time instead."
    records = hub_records_filtered(
        tenant=tenant,
        skill_id=skill,
        status=status,
        estimated=estimated,
        since=period.start if period else None,
        until=period.end if period else None,
    )
    page = Paginator(records, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    filters = {"skill": skill, "status": status, "estimated": estimated}
    query = {"tenant": tenant.slug} | {k: v for k, v in filters.items() if v}
    if period is not None:
        query |= (
            {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
            if period.is_custom
            else {"period": period.preset}
        )
    return render(
        request,
        "command_center/records.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "records",
            "page": page,
            "total": hub_records_total(records),
            "period": period,
            "presets": list(PRESETS),
            "from_value": request.GET.get("from", ""),
            "to_value": request.GET.get("to", ""),
            "error": error,
            "skills": skills,
            "statuses": hub_record_statuses(),
            "filters": filters,
            "filter_query": urlencode(query),
        },
        status=400 if error else 200,
    )


@command_center_page
@require_GET
def plugin_skills_page(request):
    """What each `skills_used` id of the tenant stands for, with its uses: learned, confirmed
    or not yet mapped (telemetry/ingest/sources/logs_platform/plugin_skills.py)."""
    tenant, tenants = page_tenant(request)
    return render(
        request,
        "command_center/plugin_skills.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "telemetry",
            "rows": plugin_skill_mappings(tenant=tenant),
            "skills": skills_of(tenant=tenant),
            "can_edit": can_edit(request.user, tenant),
        },
    )


@command_center_page
@require_POST
def plugin_skill_map(request, mapping_id: int):
    """Confirm or correct one id's skill (empty: none of the tenant's skills)."""
    tenant = editable_page_tenant(request)
    try:
        mapping = plugin_skill_mapping_set(
            tenant=tenant,
            mapping_id=mapping_id,
            skill_id=request.POST.get("skill", "").strip(),
            user=request.user,
        )
    except MappingNotFound as exc:
        raise Http404(str(exc)) from None
    except MappingError as exc:
        messages.error(request, f"{exc} Nothing was changed.")
    else:
        what = mapping.skill.name if mapping.skill else "none of your skills"
        messages.success(request, f"{mapping.skills_used_id} is {what}: its uses follow.")
    return HttpResponseRedirect(f"{reverse('command_center:plugin_skills')}?tenant={tenant.slug}")
