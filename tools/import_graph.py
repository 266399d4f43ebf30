"""The project's import graph, from the source (ast): which of our modules each module imports.

    python3 tools/import_graph.py              # every module: its imports of ours, top-level and inside functions
    python3 tools/import_graph.py --summary    # per module: how many of ours it imports, and from components/
    python3 tools/import_graph.py --packages   # the arrows between packages (pipeline.commands -> pipeline.runs)

Reads files only (nothing is imported), so it runs with any Python 3 and on any checkout.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "components")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str] = frozenset()) -> set[str]:
    """Our modules that `path` imports. `from pipeline.runs import charts` imports the module
    pipeline.runs.charts when it is one of `modules`, else the package pipeline.runs."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules
            found |= submodules if len(submodules) == len(node.names) else submodules | {node.module}
    return {name for name in found if name.split(".")[0] in PACKAGES}


def module_graph() -> dict[str, set[str]]:
    """Every module of ours -> the modules of ours it imports (at the top or inside a function)."""
    paths = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


def package_of(module: str, graph: dict[str, set[str]]) -> str:
    """The package a module is in (a package's __init__ is its package itself)."""
    is_package = any(other.startswith(module + ".") for other in graph)
    return module if is_package else module.rpartition(".")[0] or module


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Package -> the other packages its modules import."""
    arrows: dict[str, set[str]] = {}
    for module, imported in graph.items():
        source = package_of(module, graph)
        targets = {package_of(name, graph) for name in imported if name in graph}
        arrows.setdefault(source, set()).update(targets - {source})
    return arrows


def main() -> None:
    graph = module_graph()
    if "--packages" in sys.argv:
        for package, imported in sorted(package_graph(graph).items()):
            print(f"{package}: {', '.join(sorted(imported)) or '-'}")
        return
    for module, imported in sorted(graph.items()):
        if "--summary" in sys.argv:
            into_components = sorted(name for name in imported if name.startswith("components"))
            print(f"{module:40} {len(imported):3} ours, {len(into_components):3} from components/")
        else:
            print(f"{module}: {', '.join(sorted(imported)) or '-'}")


if __name__ == "__main__":
    main()
