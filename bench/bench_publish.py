"""Publish 500 generated skills to the OpenAI sandbox with 429s injected, re-publish them
unchanged, and export them (seed Part 3, both paths, at scale).

Targets: first publish < 30 s; unchanged re-publish < 3 s with zero write calls; export < 5 s.
API calls are counted from the sandbox's own `/_sandbox/requests` log. The ratio is the
unchanged re-publish against the first publish, both measured in this run.
"""

import time

import httpx

SKILLS = 500
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _requests(sandbox) -> list[list]:
    return httpx.get(f"{sandbox.url}/_sandbox/requests").json()


def _clear(sandbox) -> None:
    httpx.delete(f"{sandbox.url}/_sandbox/requests")


def _skill_sources(count: int):
    from skills.ir.importers import SkillSource

    sources = []
    for index in range(count):
        skill_id = f"bench-skill-{index:03d}"
        document = {
            "ir_version": 1,
            "id": skill_id,
            "name": f"Bench skill {index}",
            "version": "1.0.0",
            "description": f"Generated skill number {index} for the publish benchmark.",
            "instructions": f"You are generated skill {index}. Answer briefly.\n" * 5,
            "parameters": [
                {"name": "topic", "label": "Topic", "type": "string"},
                {"name": "depth", "label": "Depth", "type": "enum", "choices": ["short", "long"]},
            ],
            "knowledge": [{"path": "references/notes.md"}],
            "archetypes": ["engineers"] if index % 2 else ["engineers", "managers"],
        }
        files = {"references/notes.md": f"# Notes for skill {index}\n".encode() * 20}
        sources.append(SkillSource(origin=skill_id, document=document, files=files))
    return sources


def main() -> None:
    from django.conf import settings

    from claresia.models import ArchetypeGroup, Tenant
    from connectors.sandbox.server import start_sandbox
    from connectors.services import connector_connect
    from skills.services.imports import skills_import
    from skills.targets.custom_gpt.export import skills_export
    from skills.targets.custom_gpt.publish import skills_publish

    sandbox = start_sandbox()
    settings.OPENAI_API_BASE = sandbox.api_base
    try:
        tenant = Tenant.objects.create(slug="bench", name="Bench")
        ArchetypeGroup.objects.create(
            tenant=tenant, slug="engineers", name="Engineers", workspace_group_id="grp_eng"
        )
        ArchetypeGroup.objects.create(
            tenant=tenant, slug="managers", name="Managers", workspace_group_id="grp_mgr"
        )
        connector_connect(
            tenant=tenant, organization_id="org-bench", api_key="sk-compliance-bench-0000"
        )
        started = time.perf_counter()
        report = skills_import(tenant=tenant, sources=_skill_sources(SKILLS))
        assert report.ok, report.refused[:3]
        print(f"   import {SKILLS} skills:       {time.perf_counter() - started:6.2f} s")

        # 429s: one GPT call in 40 with Retry-After: 1, one file upload in 60 without it.
        for fault in (
            {"path": "/v1/organization/gpts", "status": 429, "retry_after": "1", "every": 40},
            {"path": "/v1/files", "status": 429, "every": 60},
        ):
            httpx.post(f"{sandbox.url}/_sandbox/faults", json={**fault, "times": None})
        _clear(sandbox)
        started = time.perf_counter()
        first = skills_publish(tenant=tenant)
        first_seconds = time.perf_counter() - started
        calls = _requests(sandbox)
        published = sum(o.outcome == "created" for o in first.outcomes)
        limited = sum(1 for _, _, status in calls if status == 429)
        print(
            f"   first publish:           {first_seconds:6.2f} s  {len(calls)} API calls "
            f"({limited} answered 429), {published}/{SKILLS} created"
        )

        _clear(sandbox)
        started = time.perf_counter()
        again = skills_publish(tenant=tenant)
        again_seconds = time.perf_counter() - started
        calls = _requests(sandbox)
        writes = sum(1 for method, _, _ in calls if method in WRITE_METHODS)
        unchanged = sum(o.outcome == "unchanged" for o in again.outcomes)
        print(
            f"   unchanged re-publish:    {again_seconds:6.2f} s  {len(calls)} API calls, "
            f"{writes} write calls, {unchanged}/{SKILLS} unchanged"
        )

        started = time.perf_counter()
        result = skills_export(tenant=tenant)
        archive = result.archive()
        export_seconds = time.perf_counter() - started
        print(
            f"   export {len(result.bundles)} bundles:      {export_seconds:6.2f} s  "
            f"({len(archive) / 1024:.0f} KiB archive)"
        )
        print(
            f"   ratio unchanged / first: {again_seconds / first_seconds:6.3f}  "
            f"(targets: first < 30 s, unchanged < 3 s with 0 writes, export < 5 s)"
        )
    finally:
        sandbox.stop()
