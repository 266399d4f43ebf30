"""The project's import graph, from the source (ast): which of our modules each module imports.

    python3 tools/import_graph.py              # every module: its imports of ours, top-level and inside functions
    python3 tools/import_graph.py --summary    # per module: how many of ours it imports, and from components/

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


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def main() -> None:
    graph = {
        module_name(path): imports_of(path) for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    }
    for module, imported in sorted(graph.items()):
        if "--summary" in sys.argv:
            into_components = sorted(name for name in imported if name.startswith("components"))
            print(f"{module:40} {len(imported):3} ours, {len(into_components):3} from components/")
        else:
            print(f"{module}: {', '.join(sorted(imported)) or '-'}")


if __name__ == "__main__":
    main()
