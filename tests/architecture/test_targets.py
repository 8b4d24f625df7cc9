"""The skill targets stay apart (docs/architecture.md, "One package per skill target"): a module of
one target (`skills/targets/custom_gpt/`, `skills/targets/plugin/`) never imports another target,
and what they share lives in `skills/targets/common.py`, which imports no target itself. Read from
the source with `ast` (the layering test's reader): a lazy import inside a function counts too."""

from pathlib import Path

from tests.architecture.test_layering import _imports

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("skills", "targets")
SHARED = "skills.targets.common"


def _target_of(name: str) -> str | None:
    """The target package a dotted name is in (`custom_gpt`, `plugin`), or None: the shared
    module, the `skills.targets` package itself, or anything outside it."""
    parts = name.split(".")
    if tuple(parts[:2]) != TARGETS or len(parts) < 3 or f"skills.targets.{parts[2]}" == SHARED:
        return None
    return parts[2]


def _target_sources(root: Path) -> dict[str, Path]:
    modules = {}
    for path in sorted(root.joinpath(*TARGETS).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def target_crossings(root: Path = ROOT) -> list[str]:
    """Each module under skills/targets/ that imports a target other than its own (the shared
    module and the package's `__init__` have none of their own: any target is a crossing)."""
    found = set()
    for module, path in _target_sources(root).items():
        own = _target_of(module)
        for name in _imports(path, module):
            other = _target_of(name)
            if other is not None and other != own:
                found.add(f"{module} imports skills.targets.{other}")
    return sorted(found)


def shared_module_users(root: Path = ROOT) -> set[str]:
    """The targets with a module that imports the shared module."""
    return {
        _target_of(module)
        for module, path in _target_sources(root).items()
        if _target_of(module) and any(name.startswith(SHARED) for name in _imports(path, module))
    }


def test_the_two_targets_never_import_each_other():
    # given the skill targets' modules, when their imports are read
    # then none reaches the other target, and the shared module reaches neither
    assert target_crossings() == []


def test_both_targets_share_the_common_module():
    # then the rule above is about the real tree: both targets are there and both import the
    # shared module (what the plugin once borrowed from the GPT transpiler)
    assert {_target_of(m) for m in _target_sources(ROOT)} >= {"custom_gpt", "plugin"}
    assert shared_module_users() == {"custom_gpt", "plugin"}


def test_the_detector_catches_a_made_up_crossing(tmp_path):
    # given a made-up skills/targets/ where the plugin reaches the GPT target three ways (at the
    # top, lazily in a function, relatively), the GPT target reaches the plugin through the
    # package, the shared module reaches a target, and allowed imports sit beside them
    sources = {
        "skills/__init__.py": "",
        "skills/targets/__init__.py": "",
        "skills/targets/common.py": "from skills.targets.plugin.build import plugin_name\n",
        "skills/targets/custom_gpt/__init__.py": "",
        "skills/targets/custom_gpt/transpiler.py": (
            "from skills.targets.common import BundleError\nfrom skills.targets import plugin\n"
        ),
        "skills/targets/custom_gpt/publish.py": (
            "from skills.targets.custom_gpt.transpiler import skill_bundle\n"
            "from skills.services.bundles import tenant_context\n"
        ),
        "skills/targets/plugin/__init__.py": "",
        "skills/targets/plugin/build.py": (
            "from skills.targets.common import TenantContext, canonical_json\n"
            "from skills.targets.custom_gpt.transpiler import BundleError\n"
        ),
        "skills/targets/plugin/export.py": (
            "def export():\n    import skills.targets.custom_gpt.export\n"
        ),
        "skills/targets/plugin/publish.py": (
            "from ..custom_gpt import publish\nfrom .build import plugin_name\n"
        ),
    }
    for relative, text in sources.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)

    # when the crossings are looked for
    crossings = target_crossings(tmp_path)

    # then every crossing is caught, once per module and target, and nothing allowed is
    assert crossings == [
        "skills.targets.common imports skills.targets.plugin",
        "skills.targets.custom_gpt.transpiler imports skills.targets.plugin",
        "skills.targets.plugin.build imports skills.targets.custom_gpt",
        "skills.targets.plugin.export imports skills.targets.custom_gpt",
        "skills.targets.plugin.publish imports skills.targets.custom_gpt",
    ]
    # and the shared module's users are both targets
    assert shared_module_users(tmp_path) == {"custom_gpt", "plugin"}
