"""Move modules of the package to new places (issue 23, item 6: a tree that shows the layers), rewriting every
relative import inside the package to the new layout and recording each old path in ``costmodel/_moved.py``, which
keeps the old public paths importable (``costmodel.core.scaling`` is the module ``costmodel.core.scaling``).

    python tools/move_modules.py core errors formatting units ...     # move these top-level modules into core/
    python tools/move_modules.py sources builder zoo models=settle   # models.py becomes sources/settle.py
    python tools/move_modules.py engine engine.results=analysis      # a rename in place

A name is a module or a package, top-level or dotted; ``old=new`` renames it on the way. A module may move into the
package of its own name (``sources=model_source`` in ``sources``): that package's ``__init__`` must then re-export
the module's public names, and the old path is not recorded (the package answers it). An old path that a package
above it answers (``costmodel.sources.importer.entry``) is found through that package's record.

Run it on a clean tree, then ``tools/dump_outputs.py`` before and after (no byte may change) and the tests.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "costmodel"
MOVED_FILE = PACKAGE / "_moved.py"
_FROM = re.compile(r"^(\s*from\s+)(\.+[\w.]*)(\s+import\b)")


def module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str, is_init: bool) -> list[str]:
    parts = module.split(".") if module else []
    return parts if is_init else parts[:-1]


def absolute(module: str, is_init: bool, level: int, target: str | None) -> str:
    base = package_of(module, is_init)
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([target] if target else []))


def relative(module: str, is_init: bool, target: str) -> str:
    """``target`` (a dotted name below the package) as a relative import from ``module``."""
    here = package_of(module, is_init)
    there = target.split(".") if target else []
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    dots = "." * (len(here) - common + 1)
    return dots + ".".join(there[common:])


def remap(name: str, moves: dict[str, str]) -> str:
    for old in sorted(moves, key=len, reverse=True):
        if name == old or name.startswith(old + "."):
            return moves[old] + name[len(old):]
    return name


def rewrite(path: Path, old_module: str, new_module: str, moves: dict[str, str]) -> str:
    """The text of ``path`` (at ``old_module``, going to ``new_module``) with its relative imports rewritten."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    is_init = path.name == "__init__.py"
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        target = absolute(old_module, is_init, node.level, node.module)
        if node.module is None:          # ``from . import a, b``: each name is a module of the package
            names = [remap(f"{target}.{alias.name}" if target else alias.name, moves) for alias in node.names]
            new_targets = {name.rsplit(".", 1)[0] if "." in name else "" for name in names}
            if len(new_targets) != 1:
                raise SystemExit(f"{path}:{node.lineno}: the names of one 'from . import' now live apart")
            new_target = new_targets.pop()
        else:
            new_target = remap(target, moves)
        line = lines[node.lineno - 1]
        match = _FROM.match(line)
        if match is None:
            raise SystemExit(f"{path}:{node.lineno}: cannot find the import's module in {line!r}")
        shown = relative(new_module, is_init, new_target)
        lines[node.lineno - 1] = match.group(1) + shown + match.group(3) + line[match.end():]
    return "".join(lines)


def main(argv: list[str]) -> None:
    package, specs = argv[0], argv[1:]
    renames = dict(spec.split("=", 1) if "=" in spec else (spec, spec) for spec in specs)
    moves = {name: f"{package}.{new}" for name, new in renames.items()}
    paths = {module_of(path): path for path in PACKAGE.rglob("*.py")}
    for name in renames:
        if name not in paths:
            raise SystemExit(f"{name}: not a module or package of the package")
    texts = {}
    for old_module, path in paths.items():
        new_module = remap(old_module, moves)
        texts[old_module] = rewrite(path, old_module, new_module, moves)
    target_dir = PACKAGE / package.replace(".", "/")
    staged = {}
    for name in renames:                 # a module going into the package of its own name steps aside first
        if name == package and paths[name].name != "__init__.py":
            staged[name] = paths[name].with_name(f"_{name}_moving.py")
            subprocess.run(["git", "mv", str(paths[name]), str(staged[name])], cwd=ROOT, check=True)
    target_dir.mkdir(exist_ok=True)
    init = target_dir / "__init__.py"
    if not init.exists():
        init.write_text(f'"""The {package} layer (see tests/test_architecture.py)."""\n')
        subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)
    for name, new in renames.items():
        source = staged.get(name, paths[name])
        is_package = source.name == "__init__.py"
        target = target_dir / new if is_package else target_dir / f"{new}.py"
        subprocess.run(["git", "mv", str(source.parent if is_package else source), str(target)], cwd=ROOT,
                       check=True)
    for old_module, text in texts.items():
        new_module = remap(old_module, moves)
        if new_module == old_module:
            new_path = paths[old_module]
        elif paths[old_module].name == "__init__.py":
            new_path = PACKAGE / new_module.replace(".", "/") / "__init__.py"
        else:
            new_path = PACKAGE / (new_module.replace(".", "/") + ".py")
        new_path.write_text(text)
    recorded = {}
    if MOVED_FILE.exists():
        namespace: dict = {}
        exec(compile(MOVED_FILE.read_text(), str(MOVED_FILE), "exec"), namespace)
        recorded = namespace["MOVED"]
    recorded = {old: remap(new, moves) for old, new in recorded.items()}      # an earlier move's target moved on
    recorded.update({old: new for old, new in moves.items() if old != package})
    body = "".join(f"    {old!r}: {new!r},\n" for old, new in sorted(recorded.items()))
    MOVED_FILE.write_text(
        '"""Where the modules that moved now live, by their old path below the package (``tools/move_modules.py``\n'
        'writes this): ``costmodel.<old>`` stays importable as the module at ``costmodel.<new>``."""\n'
        f"MOVED = {{\n{body}}}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
