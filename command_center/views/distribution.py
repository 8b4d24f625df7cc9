"""Command Center → Distribution: the skills per target with drift and *Republish*, OpenAI →
Export, the plugin download, publish runs and their progress."""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claresia.models import Tenant
from command_center.pages import can_edit, command_center_page, editable_page_tenant, page_tenant
from connectors.selectors import connector_of
from skills.downloads import zip_attachment
from skills.ir.validation import ir_schema
from skills.selectors import (
    publish_run_for_user,
    publish_runs_recent,
    skill_ids,
    skill_of,
    skill_rows,
)
from skills.services.workspace_read import workspace_read_of
from skills.targets.custom_gpt.export import skills_export
from skills.targets.custom_gpt.publish import PublishError, PublishOutcome, skills_publish_plan
from skills.targets.custom_gpt.workspace_drift import skill_verdict
from skills.targets.plugin.export import skills_plugin_export
from skills.tasks import drift_check_start, publish_run_start, workspace_read_start


@command_center_page
@require_GET
def distribution(request):
    tenant, tenants = page_tenant(request)
    workspace = _workspace(tenant)
    lines = {line.skill_id: line for line in workspace["workspace_lines"] or []}
    rows = skill_rows(tenant=tenant)
    for row in rows:
        # One verdict per skill: the publish's drift check and the workspace's inventory.
        row["verdict"] = skill_verdict(row["publication"], lines.get(row["skill"].skill_id))
    return render(
        request,
        "command_center/distribution.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "distribution",
            "rows": rows,
            "connector": connector_of(tenant=tenant),
            "runs": publish_runs_recent(tenant=tenant, limit=10),
            "can_publish": can_edit(request.user, tenant),
            **workspace,
        },
    )


def _workspace(tenant: Tenant) -> dict:
    """The skills against the workspace's real GPT inventory as last read (a queued task reads
    it: the page never waits on OpenAI), when a workspace id is set."""
    read = workspace_read_of(tenant=tenant)
    if read is None:
        return {"workspace_lines": None, "workspace_error": "", "workspace_read": None}
    return {"workspace_lines": read.lines, "workspace_error": read.error, "workspace_read": read}


@command_center_page
@require_GET
def export(request):
    return _export_page(request)


def _export_page(request, *, error: str = "", status: int = 200):
    tenant, tenants = page_tenant(request)
    plan = {item.skill.pk: item for item in skills_publish_plan(tenant=tenant)}
    rows = skill_rows(tenant=tenant)
    for row in rows:
        item = plan[row["skill"].pk]
        row["bundle"] = item.bundle
        # Manual export needs a bundle only: the "blocked" of a manual-export tenant is not a block.
        row["problem"] = item.reason if item.bundle is None else ""
    return render(
        request,
        "command_center/export.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "distribution",
            "rows": rows,
            "connector": connector_of(tenant=tenant),
            "error": error,
        },
        status=status,
    )


def _export_download(request, export, nothing_exported: str):
    """The skills `?skill=` names (all when none), exported by `export`, as one ZIP download."""
    tenant, _ = page_tenant(request)
    result = export(tenant=tenant, skill_ids=request.GET.getlist("skill") or None)
    if not result.exported:
        raise Http404(nothing_exported)
    return zip_attachment(result)


@command_center_page
@require_GET
def export_download(request):
    """The Custom GPT target: one ZIP per skill and manifest.csv, in one ZIP."""
    # The Export page's form, submitted with every box unticked, means nothing, not everything.
    if "picked" in request.GET and not request.GET.getlist("skill"):
        return _export_page(
            request,
            error="Select at least one skill to export; nothing was downloaded.",
            status=400,
        )
    return _export_download(
        request, skills_export, "No skill of this tenant can be exported (see the Export page)."
    )


@command_center_page
@require_GET
def plugin_download(request):
    """The plugin target: Agent Skills ZIPs, the plugin ZIP and manifest.json, in one ZIP."""
    return _export_download(
        request, skills_plugin_export, "No skill of this tenant can be exported as a plugin."
    )


def _distribution_url(tenant: Tenant) -> str:
    return f"{reverse('command_center:distribution')}?tenant={tenant.slug}"


@command_center_page
@require_POST
def drift_check(request):
    """Check the tenant's published GPTs for drift now (the daily task does it unasked), and read
    the workspace's GPT inventory again (the hourly task does it unasked)."""
    tenant = editable_page_tenant(request)
    drift_check_start(tenant=tenant)
    workspace_read_start(tenant=tenant)
    messages.success(
        request,
        f"Checking drift of {tenant.name}'s published GPTs: this page shows each skill's "
        "verdict, with the time it was checked, when it refreshes in a few seconds.",
    )
    return HttpResponseRedirect(_distribution_url(tenant) + "&drift=checking")


@command_center_page
@require_POST
def republish(request):
    """One click: publish this skill again over whatever was changed in ChatGPT."""
    tenant = editable_page_tenant(request)
    skill = skill_of(tenant=tenant, skill_id=request.POST.get("skill", ""))
    if skill is None:
        raise Http404("No such skill.")
    run = publish_run_start(
        tenant=tenant, skill_ids=[skill.skill_id], user=request.user, force=True
    )
    return HttpResponseRedirect(reverse("command_center:publish_run", args=[run.pk]))


@command_center_page
@require_http_methods(["GET", "POST"])
def publish_start(request):
    """GET: the plan (what publishing would do to each GPT, nothing written), as the admin's
    confirmation page; POST: the publish run."""
    tenant = editable_page_tenant(request)
    if request.method == "GET":
        return _publish_plan_page(request, tenant)
    wanted = request.POST.getlist("skill") or skill_ids(tenant=tenant)
    try:
        run = publish_run_start(tenant=tenant, skill_ids=wanted, user=request.user)
    except PublishError as exc:
        return render(
            request,
            "command_center/message.html",
            {"tenant": tenant, "section": "distribution", "message": str(exc)},
            status=400,
        )
    return HttpResponseRedirect(reverse("command_center:publish_run", args=[run.pk]))


def _publish_plan_page(request, tenant: Tenant):
    try:
        plan = skills_publish_plan(tenant=tenant)
    except PublishError as exc:
        return render(
            request,
            "command_center/message.html",
            {"tenant": tenant, "section": "distribution", "message": str(exc)},
            status=400,
        )
    return render(
        request,
        "command_center/publish_plan.html",
        {
            "tenant": tenant,
            "section": "distribution",
            "plan": plan,
            "writes": sum(item.action.writes for item in plan),
        },
    )


@command_center_page
@require_GET
def publish_run(request, run_id: int):
    run = publish_run_for_user(user=request.user, run_id=run_id)
    if run is None:
        raise Http404("No such publish run.")
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "status": run.status,
                "total": run.total,
                "done": run.done,
                "failed": run.failed,
                "remaining": run.remaining,
                "error": run.error,
            }
        )
    percent = round(100 * (run.done + run.failed) / run.total) if run.total else 100
    return render(
        request,
        "command_center/publish_run.html",
        {
            "tenant": run.tenant,
            "section": "distribution",
            "run": run,
            "percent": percent,
            "failures": [r for r in run.results if not PublishOutcome(r["outcome"]).ok],
        },
    )


@command_center_page
@require_GET
def skill_ir_schema(request):
    """The Skill IR JSON Schema that every import is validated against."""
    return JsonResponse(ir_schema(), json_dumps_params={"indent": 2})
