"""Two worlds as folders (docs/architecture.md → Two worlds, as folders): the seed's modelled
OpenAI surface and the real ChatGPT admin surface each have their client module, telemetry source
and skill target, and the real one never leans on the modelled one, so that the modelled world
can go when OpenAI retires it without touching the real one. Telemetry sources do not import one
another, and the hub never imports the app connection that is built on it. Read from the source
with the layering test's import graph; each detector is proven on a made-up graph first."""

from tests.architecture.test_layering import _graph

MODELLED = (
    "connectors.openai.modelled",
    "telemetry.ingest.sources.audit_log",
    "skills.targets.custom_gpt",
)
REAL = (
    "connectors.openai.chatgpt_admin",
    "connectors.sandbox.chatgpt_admin",
    "telemetry.ingest.sources.logs_platform",
    "skills.targets.plugin",
    "telemetry.app_connection",
)
SOURCES = "telemetry.ingest.sources."
# The audit export is the audit log's events in a file a person uploads: the same normalizer.
SOURCE_BORROWS = {("audit_export", "telemetry.ingest.sources.audit_log.normalizer")}
HUB, APP_CONNECTION = "telemetry.hub", "telemetry.app_connection"


def _under(module: str, prefixes) -> bool:
    if isinstance(prefixes, str):
        prefixes = (prefixes,)
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def real_leaning_on_modelled(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _under(module, REAL)
        for target in targets
        if _under(target, MODELLED)
    )


def sources_crossing(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in graph.items():
        if not module.startswith(SOURCES):
            continue
        source = module.removeprefix(SOURCES).split(".")[0]
        for target in targets:
            if not target.startswith(SOURCES):
                continue
            other = target.removeprefix(SOURCES).split(".")[0]
            if other != source and (source, target) not in SOURCE_BORROWS:
                found.append(f"{module} imports {target}")
    return sorted(found)


def hub_reaching_app_connection(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _under(module, HUB)
        for target in targets
        if _under(target, APP_CONNECTION)
    )


MADE_UP = {
    "telemetry.ingest.sources.logs_platform.poller": {
        "telemetry.ingest.sources.audit_log.normalizer",  # real → modelled, and a crossing
        "telemetry.ingest.rows",
    },
    "skills.targets.plugin.build": {"skills.targets.custom_gpt.transpiler"},  # real → modelled
    "skills.targets.plugin.marketplace": {"skills.targets.common"},  # allowed
    "telemetry.ingest.sources.audit_export.importer": {
        "telemetry.ingest.sources.audit_log.normalizer",  # the named borrowing: allowed
    },
    "telemetry.ingest.sources.audit_export.other": {
        "telemetry.ingest.sources.audit_log.poller",  # not the normalizer: a crossing
    },
    "telemetry.hub.selectors": {"telemetry.app_connection.models"},  # the hub reaching up
    "telemetry.app_connection.server": {"telemetry.hub.services"},  # allowed
    "telemetry.hubbub": {"telemetry.app_connection.server"},  # not the hub: a prefix, not a package
}


def test_the_detectors_find_made_up_crossings():
    assert real_leaning_on_modelled(MADE_UP) == [
        "skills.targets.plugin.build imports skills.targets.custom_gpt.transpiler",
        "telemetry.ingest.sources.logs_platform.poller imports "
        "telemetry.ingest.sources.audit_log.normalizer",
    ]
    assert sources_crossing(MADE_UP) == [
        "telemetry.ingest.sources.audit_export.other imports "
        "telemetry.ingest.sources.audit_log.poller",
        "telemetry.ingest.sources.logs_platform.poller imports "
        "telemetry.ingest.sources.audit_log.normalizer",
    ]
    assert hub_reaching_app_connection(MADE_UP) == [
        "telemetry.hub.selectors imports telemetry.app_connection.models"
    ]


def test_the_worlds_exist_as_folders():
    graph = _graph()
    for prefix in (*MODELLED, *REAL):
        found = any(_under(module, prefix) for module in graph)
        assert found, f"{prefix} is gone: update MODELLED or REAL"


def test_the_real_world_never_leans_on_the_modelled_one():
    assert real_leaning_on_modelled(_graph()) == []


def test_telemetry_sources_do_not_import_one_another():
    assert sources_crossing(_graph()) == []


def test_the_hub_never_imports_the_app_connection():
    assert hub_reaching_app_connection(_graph()) == []
