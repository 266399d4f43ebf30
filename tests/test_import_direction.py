"""The direction of imports (docs/architecture.md), held on the graph tools/import_graph.py reads
from the source: every import, at the top of a module or inside a function."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("import_graph", REPO / "tools" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
sys.modules["import_graph"] = import_graph
spec.loader.exec_module(import_graph)

STAGES = ("example_gen", "transform", "trainer", "tuner", "evaluator", "pusher")
# What each floor of pipeline/ may import of pipeline/ (components/ is below them all).
MAY_IMPORT = {
    "pipeline.config": ("pipeline.config",),
    "pipeline.runs": ("pipeline.runs", "pipeline.config"),
    # The runners hand their records over as runs/metadata.py's NodeRun; they never summarize or report.
    "pipeline.orchestration": ("pipeline.orchestration", "pipeline.config", "pipeline.runs.metadata"),
    "pipeline.commands": ("pipeline.commands", "pipeline.orchestration", "pipeline.runs", "pipeline.config"),
}


def wrong_arrows(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes the wrong way, as "importer -> imported: rule"."""
    found = []
    for module, imported in sorted(graph.items()):
        for name in sorted(imported):
            if module.startswith("components") and name.startswith("pipeline"):
                found.append(f"{module} -> {name}: components/ never imports pipeline/")
            floor = next((floor for floor in MAY_IMPORT if module.startswith(floor)), None)
            if floor and name.startswith("pipeline") and name != "pipeline":
                if not any(name == allowed or name.startswith(allowed + ".") for allowed in MAY_IMPORT[floor]):
                    found.append(f"{module} -> {name}: {floor} may import {', '.join(MAY_IMPORT[floor])}")
    return found + stage_loops(graph)


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "components" and len(parts) > 1 and parts[1] in STAGES else None


def stage_loops(graph: dict[str, set[str]]) -> list[str]:
    """Loops between components' stage packages (a stage's sub-packages are the stage)."""
    arrows = {stage: set() for stage in STAGES}
    for module, imported in graph.items():
        source = stage_of(module)
        if source:
            arrows[source] |= {stage_of(name) for name in imported if stage_of(name) not in (None, source)}
    loops = []
    for start in STAGES:
        seen: set[str] = set()
        stack = [(start, [start])]
        while stack:
            stage, path = stack.pop()
            for target in sorted(arrows[stage]):
                if target == start:
                    loops.append(" -> ".join([*path, start]) + ": a loop between stage packages")
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
    return sorted(set(loops))


def test_every_import_goes_the_way_the_floors_say():
    assert wrong_arrows(import_graph.module_graph()) == []


@pytest.mark.parametrize(
    "importer, imported, rule",
    [
        ("components.trainer.run", "pipeline.config.resolve", "components/ never imports pipeline/"),
        ("pipeline.runs.report", "pipeline.commands.terminal", "pipeline.runs may import"),
        ("pipeline.orchestration.local_runner", "pipeline.runs.report", "pipeline.orchestration may import"),
        ("pipeline.config.resolve", "pipeline.orchestration.factory", "pipeline.config may import"),
        ("components.trainer.run", "components.tuner.space", "a loop between stage packages"),
    ],
)
def test_an_arrow_the_wrong_way_is_named(importer, imported, rule):
    graph = {module: set(names) for module, names in import_graph.module_graph().items()}
    graph[importer].add(imported)
    assert any(rule in line for line in wrong_arrows(graph))


def test_the_graph_sees_a_module_imported_from_its_package():
    """`from pipeline.runs import charts` is an import of pipeline.runs.charts."""
    assert "pipeline.runs.charts" in import_graph.module_graph()["pipeline.runs.report"]
