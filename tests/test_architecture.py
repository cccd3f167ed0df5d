"""The layout holds: wings import only wings below them, and nothing imports in a circle.

Every module's imports are read from its source (module-level and inside functions) and
resolved to derivekit modules; see docs/architecture.md for the map this test enforces.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "derivekit"
TOP = "top"  # the shared top-level modules: errors, limits, files, options, display

# What each wing may import, in the direction the data flows (docs/architecture.md).
_BASE = {TOP, "parsing"}
ALLOWED: dict[str, set[str]] = {
    TOP: {TOP},
    "parsing": {TOP, "parsing"},
    "calculus": _BASE | {"calculus"},
    "render": _BASE | {"calculus", "render"},
    "numeric": _BASE | {"calculus", "render", "numeric"},
    "linalg": _BASE | {"calculus", "render", "linalg"},
    "matrix": _BASE | {"calculus", "render", "numeric", "matrix"},
    "optim": _BASE | {"calculus", "render", "numeric", "matrix", "optim"},
    "plots": _BASE | {"calculus", "render", "numeric", "matrix", "optim", "linalg", "plots"},
    "study": _BASE | {"calculus", "render", "numeric", "matrix", "optim", "linalg", "study"},
    "cli": _BASE | {"calculus", "render", "numeric", "matrix", "optim", "linalg", "plots",
                    "study", "cli"},
    "web": _BASE | {"calculus", "render", "numeric", "matrix", "optim", "linalg", "plots",
                    "study", "cli", "web"},
}

# The only upward imports. Each is inside a function, and each has a reason.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("derivekit.calculus.steps", "render"):
        "the render dispatch: a Derivation prints itself through the renderer",
    ("derivekit.calculus.steps", "plots"):
        "Derivation.plot draws f, f′ and the tangent with matplotlib, an optional extra",
    ("derivekit.optim.trajectory", "plots"): "Trajectory.plot draws with matplotlib, an optional extra",
    ("derivekit.linalg.eigen", "plots"): "EigenResult.plot draws with matplotlib, an optional extra",
    ("derivekit.linalg.pca", "plots"): "PCAResult.plot draws with matplotlib, an optional extra",
    ("derivekit.cli.web", "web"): "`derivekit serve` starts the web wing, which runs the CLI's "
                                  "commands for its JSON API (and needs the optional web extra)",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def wing_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return TOP


def _resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The derivekit modules an import statement loads (``from pkg import submodule`` too)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "derivekit"]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source.split(".")[0] != "derivekit":
        return []
    targets = []
    for alias in node.names:
        candidate = f"{source}.{alias.name}"
        targets.append(candidate if candidate in MODULES else source)
    return targets


def imports_of(module: str) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every derivekit import in ``module``."""
    path = MODULES[module]
    found = []

    def visit(node, nested):
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((t, not nested) for t in _resolve(module, path, child))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_the_package_is_organised_in_wings():
    top_level = [p for p in PACKAGE.glob("*.py")]
    wings = [p for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert len(top_level) <= 10, sorted(p.name for p in top_level)
    assert len(wings) >= 6
    assert {p.name for p in wings} <= set(ALLOWED), "a new wing needs its row in ALLOWED"


@pytest.mark.parametrize("wing", sorted(set(ALLOWED) - {TOP}))
def test_each_wing_says_what_it_is(wing):
    doc = ast.get_docstring(ast.parse((PACKAGE / wing / "__init__.py").read_text()))
    assert doc and doc.startswith(f"{wing}:"), f"derivekit/{wing}/__init__.py needs a docstring"
    assert "Job:" in doc and "May import:" in doc and "Modules:" in doc
    for module in (PACKAGE / wing).glob("*.py"):
        if module.name != "__init__.py":
            assert module.stem in doc, f"{wing}/__init__.py does not describe {module.name}"


def test_no_module_level_import_cycle():
    graph = {m: {t for t, top in imports_of(m) if top and t != m} for m in MODULES}
    assert _find_cycle(graph) is None, " → ".join(_find_cycle(graph))


def test_wings_import_only_wings_below_them():
    wrong = []
    for module in MODULES:
        if module in ("derivekit", "derivekit.__main__"):
            continue  # the package's lazy export table and `python -m derivekit`
        here = wing_of(module)
        for target, at_module_level in imports_of(module):
            there = wing_of(target)
            if there in ALLOWED[here]:
                continue
            if (module, there) in EXCEPTIONS and not at_module_level:
                continue
            wrong.append(f"{module} imports {target} ({here} → {there})")
    assert not wrong, "\n".join(wrong)


def test_no_cycle_between_wings_even_through_function_level_imports():
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        if module in ("derivekit", "derivekit.__main__"):
            continue
        for target, _ in imports_of(module):
            here, there = wing_of(module), wing_of(target)
            if here != there and (module, there) not in EXCEPTIONS:
                graph.setdefault(here, set()).add(there)
    assert _find_cycle(graph) is None, " → ".join(_find_cycle(graph))


def test_every_exception_is_still_needed():
    for module, wing in EXCEPTIONS:
        assert any(wing_of(t) == wing for t, _ in imports_of(module)), (module, wing)


def test_the_checker_sees_a_violation():
    # an upward import written the way the package writes imports is resolved and refused
    tree = ast.parse("def f():\n    from derivekit.cli import dispatch\n")
    node = tree.body[0].body[0]
    targets = _resolve("derivekit.parsing.parse", MODULES["derivekit.parsing.parse"], node)
    assert targets == ["derivekit.cli.dispatch"]
    assert wing_of(targets[0]) not in ALLOWED["parsing"]
    assert _find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_every_public_name_resolves_from_its_wing():
    import derivekit as dk
    for name in dk.__all__:
        assert getattr(dk, name) is not None
    for name, module in dk._EXPORTS.items():
        assert wing_of(module) != TOP, f"{name} should live in a wing, not {module}"
