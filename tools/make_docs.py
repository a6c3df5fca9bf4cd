"""Write the reference pages of ``docs/`` from the code: the command line's reference from its click commands
(``docs/cli.md``), the Python API's from the public functions' and classes' signatures and docstrings
(``docs/api.md``), and the spec-file ops from the op registry (``docs/ops.md``). ``tests/test_docs.py`` checks that
the committed pages are what this writes.

    python tools/make_docs.py            # rewrite docs/cli.md, docs/api.md, docs/ops.md
"""
from __future__ import annotations

import importlib
import inspect
import sys
import typing
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# the public Python API, module by module: (module, names documented)
API = (
    ("costmodel", ("analyze", "fit", "render", "Setting", "Analysis", "LayerCost", "Network", "CostModelError")),
    ("costmodel.design.sweep", ("sweep", "Sweep")),
    ("costmodel.design.fit", ("search", "Front", "read_limits")),
    ("costmodel.present", ("render", "FORMATS")),
    ("costmodel.sources.setting", ("Setting", "setting_of")),
    ("costmodel.sources", ("model_source", "ModelSource")),
    ("costmodel.sources.analyze", ("fused_view",)),
    ("costmodel.core.units", ("parse_quantity", "parse_count", "parse_bytes", "parse_milliseconds")),
    ("costmodel.core.errors", ("CostModelError", "ParameterError", "param", "within")),
    ("costmodel.latency", ("Profile", "KernelModel")),
    ("costmodel.latency.devices", ("load_profile", "load_device")),
    ("costmodel.latency.bench", ("bench", "calibrate", "Benchmark")),
    ("costmodel.lowering.verify", ("verify", "Verification")),
    ("costmodel.sources.builder", ("GraphBuilder",)),
    ("costmodel.engine.fusion", ("fuse",)),
)


def _cell(text: str) -> str:
    """``text`` in a Markdown table's cell: its bars escaped."""
    return text.replace("|", "\\|")


def _clean(text: str) -> str:
    return inspect.cleandoc(text or "").strip()


def cli_reference() -> str:
    """Every command: its usage, what it does, and each option (names, value, default, help)."""
    from costmodel.cli import cli

    lines = ["# Command-line reference", "",
             "Generated from the commands by `python tools/make_docs.py`; `costmodel COMMAND --help` (or `-h`) prints "
             "the same.", ""]
    context = click.Context(cli, info_name="costmodel", **cli.context_settings)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        sub = click.Context(command, info_name=name, parent=context)
        usage = f"costmodel {name} " + " ".join(command.collect_usage_pieces(sub))
        lines += [f"## costmodel {name}", "", "```", usage, "```", "", _clean(command.help).replace("\n", " "), ""]
        rows = []
        for parameter in command.get_params(sub):
            if not isinstance(parameter, click.Option) or parameter.hidden or parameter.name == "help":
                continue
            names, value = parameter.get_help_record(sub) or ("", "")
            rows.append(f"| `{_cell(names)}` | {_cell(value)} |")
        if rows:
            lines += ["| option | what it does |", "|---|---|", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


class _Shown:
    """An annotation shown as written (``float | None``), not as the quoted string it is under
    ``from __future__ import annotations``."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _unquoted(annotation: object) -> object:
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if annotation is inspect.Parameter.empty or not isinstance(annotation, str):
        return annotation
    while len(annotation) > 1 and annotation[0] == annotation[-1] and annotation[0] in "'\"":
        annotation = annotation[1:-1]
    return _Shown(annotation)


def _signature(obj: object) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    parameters = [parameter.replace(annotation=_unquoted(parameter.annotation))
                  for parameter in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=_unquoted(signature.return_annotation)))


def api_reference() -> str:
    """Each public name of ``API``: its signature and docstring."""
    lines = ["# Python API reference", "",
             "Generated from the docstrings by `python tools/make_docs.py`. The public names are those below; "
             "anything else may change without notice.", ""]
    for module_name, names in API:
        module = importlib.import_module(module_name)
        lines += [f"## `{module_name}`", "", _clean(module.__doc__).split("\n\n")[0].replace("\n", " "), ""]
        for name in names:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                lines += [f"### class `{name}{_signature(obj)}`", "", _clean(obj.__doc__), ""]
                for member, value in sorted(vars(obj).items()):
                    if member.startswith("_") or not (inspect.isfunction(value) or isinstance(value, property)):
                        continue
                    doc = _clean(value.__doc__)
                    if doc:
                        shown = f"{member}{_signature(value)}" if inspect.isfunction(value) else member
                        lines += [f"- `{shown}`: {doc.splitlines()[0]}"]
                lines.append("")
            elif callable(obj):
                lines += [f"### `{name}{_signature(obj)}`", "", _clean(obj.__doc__), ""]
            else:
                lines += [f"### `{name}` = `{obj!r}`", ""]
    return "\n".join(lines).rstrip() + "\n"


def ops_reference() -> str:
    from costmodel.present.analyses import ops_reference as table

    return ("# Spec-file ops\n\nGenerated from the op registry (`costmodel/ops/`) by `python tools/make_docs.py`: per "
            "family, each op's spec-file name, fields and the kinds it reports.\n\n" + table())


PAGES = {"cli.md": cli_reference, "api.md": api_reference, "ops.md": ops_reference}


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    for name, make in PAGES.items():
        (DOCS / name).write_text(make())
        print(f"wrote docs/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
