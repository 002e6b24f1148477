"""The layering, read from the source: every import statement of arcray/, function-level ones too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "arcray"
NO_RAY = ("arc", "augment", "civilization", "consistency", "search", "solver")  # the domain: testable without Ray


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each arcray module and the arcray modules it imports, anywhere in its body.

    ``from pkg import sub`` names the submodule ``pkg.sub`` (not ``pkg``, whose ``__init__`` Python
    has already begun); ``from pkg import name`` names ``pkg``.
    """
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in paths else node.module)
        graph[name] = {t for t in targets if t == "arcray" or t.startswith("arcray.")}
    return graph


def test_training_imports_nothing_from_pipelines():
    offenders = {m: sorted(t for t in targets if t.startswith("arcray.pipelines"))
                 for m, targets in imports().items() if m.startswith("arcray.training")}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_runtime_layer_imports_no_stage():
    stages = ("arcray.pipelines", "arcray.training", "arcray.tuning", "arcray.cli")
    offenders = {m: sorted(t for t in targets if t.startswith(stages))
                 for m, targets in imports().items() if m.startswith("arcray.runtime")}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_domain_never_imports_ray_or_the_layers_above_it():
    above = ("arcray.pipelines", "arcray.training", "arcray.tuning", "arcray.cli", "arcray.runtime")
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name.count(".") == 0 or name.split(".")[1] not in NO_RAY:
            continue
        tree = ast.parse(path.read_text())
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(m == "ray" or m.startswith("ray.") for m in modules), name
        assert not any(m.startswith(above) for m in modules), name


def test_the_graph_is_read_at_all():
    graph = imports()
    assert "arcray.runtime.ray_setup" in graph["arcray.training.train"]  # a function-level import, found
    assert len(graph) > 80


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_in_a_circle():
    graph = imports()
    modules = {name: {t for t in targets if t in graph and t != name} for name, targets in graph.items()}
    assert cycles(modules) == []


def test_a_circle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_sandbox_worker_imports_nothing_from_arcray():
    """It runs inside the sandbox, where arcray cannot be imported: its own modules and the standard library only."""
    worker = PACKAGE / "arc" / "sandbox" / "worker"
    own = {path.stem for path in worker.glob("*.py")}
    for path in worker.glob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and n.level == 0}
        assert "arcray" not in modules, path.name
        assert modules - own <= {"__future__", "builtins", "collections", "ctypes", "dataclasses", "errno", "fcntl", "gc",
                                 "json", "math", "numpy", "os", "pyseccomp", "resource", "select", "signal", "socket", "stat", "sys",
                                 "tempfile", "time", "types", "typing"}, (path.name, modules - own)


def test_the_solver_language_stands_alone_and_nothing_runs_back_up_into_the_teachers():
    """Primitives, programs, emitted source and the grammar live in arcray.solver, which imports no other
    arcray package; arcray.arc (tasks, grids, the sandbox) imports neither the solver language nor a teacher."""
    graph = imports()
    solver = {m: sorted(t for t in targets if not t.startswith("arcray.solver"))
              for m, targets in graph.items() if m.startswith("arcray.solver")}
    assert {m: t for m, t in solver.items() if t} == {}
    assert {"arcray.solver.primitives", "arcray.solver.program", "arcray.solver.emit", "arcray.solver.grammar"} <= set(graph)
    upward = ("arcray.search", "arcray.solver", "arcray.civilization", "arcray.augment")
    arc = {m: sorted(t for t in targets if t.startswith(upward)) for m, targets in graph.items() if m.startswith("arcray.arc")}
    assert {m: t for m, t in arc.items() if t} == {}
