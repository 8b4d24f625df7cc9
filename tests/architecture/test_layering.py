"""The house's layering (ARCHITECTURE.md, Layout): imports run one way between apps, and no module
imports itself back through others. Read from the source with `ast`, so a lazy import inside a
function counts as much as one at the top of a file."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Lowest first: an app may import the apps before it, never one after it.
APPS = ["claresia", "connectors", "skills", "telemetry", "command_center", "demo"]
RANK = {app: rank for rank, app in enumerate(APPS)}
# The project's wiring names every app by design.
WIRING = {"claresia/settings.py", "claresia/urls.py", "claresia/celery.py", "claresia/wsgi.py"}
# The connector's model and its key are the connectors app's own: every other app goes through
# connectors.services (ConnectorUnavailable, ConnectorStatus, PublishMode, the OpenAI client).
CONNECTOR_INTERNALS = {"connectors.models", "connectors.crypto"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of what `path` imports (relative imports resolved against `module`)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (a name that is not a module maps to its module)."""
    sources = _sources()
    graph = {}
    for module, path in sources.items():
        targets = set()
        for name in _imports(path, module):
            while name and name not in sources:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in graph.items():
        if str(_sources()[module].relative_to(ROOT)) in WIRING:
            continue
        app = module.split(".")[0]
        for target in targets:
            if RANK[target.split(".")[0]] > RANK[app]:
                found.append(f"{module} imports {target}")
    return sorted(found)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_app_imports_an_app_above_it():
    assert upward_imports(_graph()) == []


def test_no_module_imports_itself_back():
    assert import_cycles(_graph()) == []


def test_nothing_outside_the_demo_imports_it():
    graph = _graph()
    assert not [
        m
        for m, targets in graph.items()
        if not m.startswith("demo")
        for t in targets
        if t.startswith("demo")
    ]


def connector_internals_reached(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] != "connectors"
        for target in targets
        if target in CONNECTOR_INTERNALS
    )


def test_no_app_but_connectors_imports_the_connector_model_or_crypto():
    assert connector_internals_reached(_graph()) == []


def test_the_connector_boundary_check_sees_a_crossing():
    # given a made-up graph where a skills module imports the connector model
    graph = {"skills.a": {"connectors.models"}, "connectors.services": {"connectors.models"}}

    # when the boundary is checked
    crossings = connector_internals_reached(graph)

    # then only the crossing from outside connectors/ is reported
    assert crossings == ["skills.a imports connectors.models"]


# The tenant model is every app's foundation (scoping, foreign keys): reaching it is expected.
SHARED_MODELS = {"claresia.models"}
# Crossings still to go through a selector or service, each with the reason it is still here.
MODELS_CROSSINGS_ALLOWED = {
    # Type annotations only (under TYPE_CHECKING): the hub reads its skill through
    # skills.selectors.skill_for_hub; the name is imported to type the hot path's signatures.
    "telemetry.hub.services imports skills.models",
}


def _is_models_module(module: str) -> bool:
    return module.rpartition(".")[2] == "models"


def models_crossings(graph: dict[str, set[str]]) -> list[str]:
    """Imports of another app's models from anywhere but a models module (foreign keys need
    them; migrations are not read at all): the rest go through that app's selectors and
    services (ARCHITECTURE.md, "Another app's data is reached through its services")."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if not _is_models_module(module)
        for target in targets
        if _is_models_module(target)
        and target not in SHARED_MODELS
        and target.split(".")[0] != module.split(".")[0]
    )


def test_no_app_imports_another_app_s_models_outside_its_models():
    crossings = set(models_crossings(_graph()))
    assert sorted(crossings - MODELS_CROSSINGS_ALLOWED) == []
    # an allowance that is no longer needed is removed, so the list only shrinks
    assert sorted(MODELS_CROSSINGS_ALLOWED - crossings) == []


def test_the_models_check_sees_a_crossing():
    # given a made-up graph: a view and a models module reach another app's models, a service
    # its own app's, and everyone the tenant model
    graph = {
        "command_center.views.a": {"skills.models", "claresia.models"},
        "telemetry.hub.models": {"skills.models"},
        "telemetry.services": {"telemetry.hub.models", "claresia.models"},
        "demo.loader": {"telemetry.hub.models"},
    }

    # when the models boundary is checked
    crossings = models_crossings(graph)

    # then only the crossings from outside a models module into another app are reported
    assert crossings == [
        "command_center.views.a imports skills.models",
        "demo.loader imports telemetry.hub.models",
    ]


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"skills.a": {"telemetry.b"}, "telemetry.b": set()}, "upward"),
        ({"skills.a": {"skills.b"}, "skills.b": {"skills.a"}}, "cycle"),
    ],
)
def test_the_checks_catch_what_they_guard(graph, expected, monkeypatch):
    # given a made-up graph with one upward import or one cycle: each check must see it
    monkeypatch.setattr(
        "tests.architecture.test_layering._sources",
        lambda: {m: ROOT / (m.replace(".", "/") + ".py") for m in graph},
    )
    if expected == "upward":
        assert upward_imports(graph) == ["skills.a imports telemetry.b"]
    else:
        assert import_cycles(graph) == [["skills.a", "skills.b"]]


def test_no_test_imports_a_conftest():
    """Fixtures reach tests through pytest; shared rows and helpers live in tests/factories.py
    and each package's helpers.py, so a conftest is never a module that others import."""
    tests = ROOT / "tests"
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted(tests.rglob("*.py"))
        for name in sorted(_imports(path, _module_name(path)))
        if name.rpartition(".")[2] == "conftest" or ".conftest." in name
    ]
    assert offenders == []
