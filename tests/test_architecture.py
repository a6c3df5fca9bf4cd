"""The layers of the package (issue 23, item 6), checked over every module: each module belongs to a layer, imports
only from its own layer or those below it (lazy imports inside functions included), and no two modules import each
other, directly or round a loop. A new module that no layer lists fails here until it is placed.

    core      the IR, shapes, width and size rules, symbolic arithmetic, metrics, conventions, errors, units,
              reading and writing files
    ops       every op, declared once
    engine    the passes over a network: shapes, counts, traces, compiled and grid programs, the fused view
    sources   what a MODEL names and how it becomes a network: zoo, spec files, builder, importers, a setting
              settled and analyzed
    lowering  the torch lowering and the checks against fvcore and FlopCounterMode
    latency   device profiles, rooflines, calibration, measurement
    design    sweeps, fit, published accuracies
    reproduce the papers' tables
    present   tables, JSON, pages and plots
    cli       the command line and the package's front door
"""
import ast
from pathlib import Path

import pytest

import costmodel

PACKAGE = Path(costmodel.__file__).parent
LAYERS = (
    ("core", ("core", "_moved")),
    ("ops", ("ops",)),
    ("engine", ("engine",)),
    ("sources", ("sources",)),
    ("lowering", ("lowering",)),
    ("latency", ("latency",)),
    ("design", ("design",)),
    ("reproduce", ("reproduce",)),
    ("present", ("present",)),
    ("cli", ("cli", "__main__", "")),          # "": the package's own __init__, its public names
)
RANK = {name: rank for rank, (_, names) in enumerate(LAYERS) for name in names}
# imports that go up a layer, each with its reason (none may be added without one)
EXCEPTIONS = {
    ("latency.bench_worker", "reproduce.microbench"):
        "the measuring child process times ShuffleNetV2's micro-benchmark networks, which reproduce defines, when "
        "reproduce asks it to",
}
HEAVY = {"torch", "fvcore", "onnx", "onnxruntime", "matplotlib"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    """The rank of the layer of ``module``: its own name's, else its package's."""
    if module == "":
        return RANK[""]
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        name = ".".join(parts[:length])
        if name in RANK:
            return RANK[name]
    raise KeyError(module)


def _placed(module: str) -> bool:
    try:
        _layer(module)
    except KeyError:
        return False
    return True


def _imports(module: str) -> "tuple[set[str], set[str]]":
    """The package's modules ``module`` imports anywhere in its text, and the outside packages it imports."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if module == "":
        package = []
    inside, outside = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "costmodel":
                target = node.module[len("costmodel."):] if node.module != "costmodel" else ""
            else:
                outside.add((node.module or "").split(".")[0])
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                inside.add(candidate if candidate in MODULES else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("costmodel."):
                    inside.add(alias.name[len("costmodel."):])
                else:
                    outside.add(alias.name.split(".")[0])
    inside.discard(module)
    return inside, outside


def test_every_module_has_a_layer():
    unplaced = [module for module in MODULES if not _placed(module)]
    assert not unplaced, f"place these modules in a layer of LAYERS: {unplaced}"


@pytest.mark.parametrize("module", sorted(module for module in MODULES if _placed(module)))
def test_a_module_imports_only_its_layer_and_those_below(module):
    inside, outside = _imports(module)
    upward = sorted(target for target in inside if _layer(target) > _layer(module)
                    and (module, target) not in EXCEPTIONS)
    layer = LAYERS[_layer(module)][0]
    assert not upward, f"{module or '__init__'} ({layer}) imports from layers above it: {upward}"
    if _layer(module) <= RANK["engine"]:                # core, ops and engine run without any heavy package
        assert not outside & HEAVY, f"{module} imports {sorted(outside & HEAVY)}"


def test_every_exception_is_still_needed():
    for module, target in EXCEPTIONS:
        assert target in _imports(module)[0], f"{module} no longer imports {target}: remove the exception"


def test_no_import_cycle():
    graph = {module: _imports(module)[0] & set(MODULES) for module in MODULES}
    state: dict[str, int] = {}          # 1: on the path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                loop = path[path.index(target):] + [target]
                raise AssertionError(f"import cycle: {' -> '.join(name or '__init__' for name in loop)}")
            if target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_checks_above_see_a_relative_import_and_a_lazy_one():
    inside, _ = _imports("sources.importer.pt2_archive")   # ``from ...core.fileio import available_memory`` lazily
    assert "core.fileio" in inside and "sources.importer.torch_export" in inside
    assert _layer("sources.zoo.mobilenet_v1") == RANK["sources"] and _layer("present.report.sections.advice") == RANK["present"]
    assert not _placed("newthing") and not _placed("zoology")
