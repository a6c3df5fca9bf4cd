"""The ``costmodel`` command line (click). Bad input exits with status 2 and one line on stderr, no traceback.

This module is on the start-up path of ``costmodel table``: it imports no torch, matplotlib, fvcore or pandas.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
from typing import Any, NoReturn, Sequence

import click

from .core.version import __version__
from .sources.analyze import analyze
from .core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from .core.errors import CostModelError, Parameter, ParameterError, Stopped, shorten
from .core.fileio import check_outputs, remove_temporaries, write_atomic
from .core.formatting import Table, json_text, printable, si_bytes
from .core.units import BYTES, parse_quantity
from .sources.importer.user_code import DEFAULT_SECONDS, check_seconds
from .engine.analysis import DEFAULT_DTYPE, DTYPE_BYTES
from .sources.setting import Setting

_FORMAT = click.Choice(["text", "csv", "json", "markdown"])


def _parse_options(pairs: Sequence[str], input_size: str | None = None, strict: bool = False,
                   timeout: float | None = None, model: str = "", submodule: str | None = None) -> dict[str, Any]:
    """``-O name=value`` pairs as a dict, with ``--input``, ``--strict``, ``--module`` and, where ``model`` is an
    imported module (whose own code runs), ``--timeout`` added."""
    options: dict[str, Any] = {}
    if input_size is not None:
        options["input"] = input_size
    if submodule:
        options["module"] = submodule
    if strict:
        options["strict"] = "true"
    if timeout is not None:
        seconds = check_seconds(timeout)
        if _runs_code(model):
            options["timeout"] = seconds
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CostModelError(f"option {pair!r} must be written name=value")
        if name in options:
            raise CostModelError(f"option {name!r} is given twice")
        options[name] = value
    return options


FLAGS = {         # every flag of a setting, declared once
    "alpha": click.option("--alpha", type=float, default=1.0, show_default=True, help="Width multiplier."),
    "depth": click.option("--depth", type=float, default=1.0, show_default=True,
                          help="Depth multiplier: each repeated stage keeps ceil(depth x n) of its n blocks."),
    "rho": click.option("--rho", type=float, default=None, help="Resolution multiplier (input = base x rho, rounded)."),
    "resolution": click.option("--resolution", default=None, metavar="N|HxW",
                               help="Input size in pixels (instead of --rho)."),
    "batch": click.option("--batch", type=int, default=1, show_default=True, help="Images per batch."),
    "options": click.option("-O", "--option", "options", multiple=True, metavar="NAME=VALUE",
                            help="A model option (see `costmodel list`); repeatable."),
    "input_size": click.option("--input", "input_size", default=None, metavar="CxHxW",
                               help="An imported module's input (default 3x224x224; --resolution keeps 3 channels)."),
    "strict": click.option("--strict", is_flag=True,
                           help="An imported call costmodel cannot count is an error, not a 0."),
    "timeout": click.option("--timeout", type=float, default=DEFAULT_SECONDS, show_default=True, metavar="SECONDS",
                            help="Seconds an imported module's own code (its import, factory and trace) may run."),
    "submodule": click.option("--module", "submodule", default=None, metavar="PATH",
                              help="Count this sub-module of an imported module (a detection model's backbone: "
                                   "--module backbone)."),
    "fused": click.option("--fused", is_flag=True, help="The fused inference view: BatchNorm folded, activations and "
                                                        "residual adds fused into kernels (a report's review reads "
                                                        "it always)."),
    "convention": click.option("--convention", type=click.Choice(list(CONVENTIONS)), default=DEFAULT_CONVENTION,
                               show_default=True, help="What FLOPs count (see docs/commands.md)."),
    "dtype": click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=DEFAULT_DTYPE, show_default=True,
                          help="Element type for memory in bytes."),
}
SETTING_FLAGS = ("alpha", "depth", "rho", "resolution", "batch", "options", "input_size", "submodule", "strict",
                 "timeout")


def _flags(*names: str) -> Any:
    """A decorator adding the flags ``names`` of ``FLAGS``, in that order."""
    def decorate(command: Any) -> Any:
        for name in reversed(names):
            command = FLAGS[name](command)
        return command
    return decorate


def _setting(*view: str, imports: bool = True) -> Any:
    """The flags of a setting (``SETTING_FLAGS``; without --strict and --timeout where ``imports`` is false) and of
    ``view`` (``fused``, ``convention``, ``dtype``), collected with the MODEL argument into one ``setting.Setting``
    passed to the command as ``setting``."""
    names = [name for name in SETTING_FLAGS if imports or name not in ("submodule", "strict", "timeout")] + list(view)

    def decorate(command: Any) -> Any:
        @functools.wraps(command)
        def collect(model: str, **given: Any) -> Any:
            fields = {name: given.pop(name) for name in names}
            options = _parse_options(fields.pop("options"), fields.pop("input_size"), fields.pop("strict", False),
                                     fields.pop("timeout", None), model, fields.pop("submodule", None))
            return command(setting=Setting(model, options=options, **fields), **given)
        return _flags(*names)(collect)
    return decorate


class OutputError(Exception):
    """Standard output could not be written (closed, or a device that refuses: /dev/full)."""


def _on_signal(signum: int, frame: Any) -> None:
    remove_temporaries()
    raise Stopped(signum)


def _runs_code(model: str) -> bool:
    """Whether the MODEL argument runs the user's own code (an unknown name runs none: it is refused later)."""
    from .sources.model_source import model_source

    try:
        return model_source(model).runs_code
    except CostModelError:
        return False


def _outputs_first(outputs: Sequence[str | None], models: Sequence[str] = (), device: str | None = None) -> None:
    """Before any work: refuse an output that cannot be written, that is one of the input files (a MODEL's file,
    the file of a ``file.py:factory``, a ``--device`` file; by identity, not by spelling), or that another output
    names too."""
    from .sources.model_source import input_files

    inputs = input_files(*models) + ([device] if device and os.path.exists(device) else [])
    check_outputs(outputs, inputs)


def _emit(text: "str | bytes", output: str | None) -> None:
    """Print ``text`` (flushed here, so that a write error is reported here), or write it atomically to
    ``output``. Bytes (ASCII) go to standard output's own buffer where it has one."""
    if output is None or output == "-":
        if sys.stdout is None:
            raise OutputError("standard output is closed")
        try:
            if isinstance(text, bytes) and hasattr(sys.stdout, "buffer"):
                sys.stdout.flush()
                sys.stdout.buffer.write(text)
                sys.stdout.buffer.flush()
            else:
                sys.stdout.write(text.decode("ascii") if isinstance(text, bytes) else text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(f"cannot write to standard output: {error.strerror}") from None
    else:
        write_atomic(output, text)
        click.echo(f"costmodel: wrote {output}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costmodel")
def cli() -> None:
    """Exact costs of efficient CNNs: parameters, mult-adds, FLOPs, memory access and activation memory, layer by
    layer, computed from the architecture without running it."""


@cli.command()
@click.argument("model")
@_setting("fused", "convention", "dtype")
@click.option("--per-layer", is_flag=True, help="One row per layer.")
@click.option("--by-kind", is_flag=True, help="Totals per layer kind with shares (the MobileNetV1 Table 2 view).")
@click.option("--by-module", is_flag=True, help="Totals per module, rolled up the module tree (node paths), as "
                                               "torchinfo and fvcore's flop_count_table give them.")
@click.option("--max-depth", type=click.IntRange(1, 1000), default=None, metavar="N",
              help="With --by-module: the deepest module listed (1: features; 2: features.3).")
@click.option("--sort", default=None, metavar="COLUMN",
              help="Sort the per-layer table by a layer's column (madds, params, flops, memory_access, ...), "
                   "largest first.")
@click.option("--top", type=click.IntRange(1, 10_000_000), default=None, metavar="N",
              help="List only the first N layers of the per-layer table (with --sort: the N largest).")
@click.option("--explain", is_flag=True, help="State the FLOPs convention in full: what each op counts (text).")
@click.option("--format", "fmt", type=_FORMAT, default="text", show_default=True, help="Output format.")
@click.option("--device", "profile_path", default=None, metavar="PROFILE",
              help="A device file with a calibrated [profile] (costmodel calibrate; the file report's --device "
                   "reads): adds predicted latency per layer and in total.")
@click.option("--training", is_flag=True,
              help="The cost of one training step at --batch: forward and backward mult-adds and FLOPs, the "
                   "activations saved for the backward, gradients, optimizer state and the step's peak memory.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam", "adamw"]), default=None,
              help="With --training: the optimizer whose state is counted (default sgd: none).")
@click.option("--freeze", multiple=True, metavar="NODE",
              help="With --training: a node (or a dotted prefix: features.0) whose parameters are not trained; "
                   "repeatable.")
@click.option("--checkpoint", multiple=True, metavar="NODE",
              help="With --training: a segment (the nodes under a dotted prefix: features.3) recomputed in the "
                   "backward instead of kept (torch.utils.checkpoint); repeatable.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE instead of standard output.")
def table(setting: Setting, per_layer: bool, by_kind: bool, by_module: bool, max_depth: int | None,
          sort: str | None, top: int | None, explain: bool, fmt: str, profile_path: str | None, training: bool,
          optimizer: str | None, freeze: tuple[str, ...], checkpoint: tuple[str, ...], output: str | None) -> None:
    """Cost table of MODEL at width multiplier --alpha, depth multiplier --depth and resolution --rho or
    --resolution (with --training: of a training step)."""
    from .present import render

    _outputs_first([output], [setting.model], profile_path)
    if training:
        clash = [flag for flag, given in (("--by-kind", by_kind), ("--by-module", by_module or max_depth is not None),
                                          ("--device", profile_path is not None), ("--fused", setting.fused),
                                          ("--explain", explain)) if given]
        if clash:
            raise CostModelError(f"--training shows a training step's table; {', '.join(clash)} "
                                 f"{'goes' if len(clash) == 1 else 'go'} with the forward's")
        step = analyze(setting, training=True, optimizer=optimizer or "sgd", frozen=freeze, checkpoint=checkpoint)
        _emit(render(step, fmt, per_layer=per_layer or sort is not None or top is not None, sort=sort, top=top),
              output)
        return
    profile = None
    if profile_path is not None:
        from .latency.devices import load_profile

        profile = load_profile(profile_path)
        if fmt == "csv":
            raise CostModelError("--device adds a latency section to text, Markdown and JSON, not to CSV")
    # refuses each of these without --training
    result = analyze(setting, optimizer=optimizer or "sgd", frozen=freeze, checkpoint=checkpoint)
    per_layer = per_layer or sort is not None or top is not None        # a sort or a top asks for the layers
    by_module = by_module or max_depth is not None
    text = render(result, fmt, per_layer=per_layer, by_kind=by_kind, explain=explain, by_module=by_module,
                  max_depth=max_depth, sort=sort, top=top)
    if profile is not None:
        from .present.analyses import latency_section

        # priced in the view the profile was measured in, whichever view the table shows
        section = latency_section(profile.priced(result, setting), profile, fmt, per_layer)
        if fmt == "json":
            document = json.loads(text)
            document["latency"] = section
            text = json_text(document)
        else:
            text += "\n" + section
    _emit(text, output)


@cli.command(name="verify")
@click.argument("model")
@_setting()
@click.option("--against", type=click.Choice(["fvcore", "flopcounter"]), default="fvcore", show_default=True,
              help="The reference: fvcore's FlopCountAnalysis or torch's FlopCounterMode.")
@click.option("--format", "fmt", type=_FORMAT, default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE instead of standard output.")
def verify_command(setting: Setting, against: str, fmt: str, output: str | None) -> int:
    """Check MODEL's counts against fvcore (or FlopCounterMode) on the lowered torch module, per layer.
    Exit status 0 when everything agrees, 1 when anything differs."""
    from .present import render
    from .lowering.verify import verify

    _outputs_first([output], [setting.model])
    check = verify(setting, against=against)
    _emit(render(check, fmt), output)
    return 0 if check.agrees else 1


@cli.command()
@click.argument("model")
@_setting("fused", "dtype")
@click.option("--device", default="pixel1-big-core", show_default=True, metavar="NAME|FILE",
              help="A roofline preset (see docs/reports.md), or a TOML file with a [device] roofline and/or a "
                   "calibrated [profile] (costmodel calibrate), which adds the predicted latency.")
@click.option("--measure", is_flag=True, help="Also time the model on this CPU with torch (costmodel bench) beside "
                                              "the profile's prediction.")
@click.option("--no-fvcore", is_flag=True, help="Skip the fvcore cross-check even when torch is installed.")
@click.option("--training", is_flag=True,
              help="Add a training section: a step at --batch, its saved activations by stage and the blocks to "
                   "checkpoint first to halve them.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam", "adamw"]), default=None,
              help="With --training: the optimizer whose state the step holds (default sgd).")
@click.option("-o", "--output", required=True, metavar="FILE", help="The HTML file to write.")
def report(setting: Setting, device: str, measure: bool, no_fvcore: bool, training: bool, optimizer: str | None,
           output: str) -> None:
    """A self-contained HTML design review of MODEL: costs, plots, roofline, guidelines, fvcore cross-check."""
    _outputs_first([output], [setting.model], device)
    from .present.report import write_report

    if optimizer is not None and not training:
        raise CostModelError("--optimizer goes with --training")
    write_report(output, setting, device=device, cross_check=not no_fvcore, measure=measure,
                 training=(optimizer or "sgd") if training else None)
    click.echo(f"costmodel: wrote {output}", err=True)


@cli.command()
@click.argument("models", nargs=-1, required=True, metavar="MODEL[:key=value,...]...")
@click.option("--device", default="pixel1-big-core", show_default=True, metavar="NAME|FILE",
              help="A roofline preset, or a TOML file with a [device] roofline and/or a calibrated [profile].")
@_flags("fused", "dtype", "batch", "timeout")
@click.option("-o", "--output", required=True, metavar="FILE", help="The HTML file to write.")
def compare(models: Sequence[str], device: str, fused: bool, dtype: str, batch: int, timeout: float,
            output: str) -> None:
    """Several networks side by side in one HTML page; each MODEL may carry its own settings, e.g.
    mobilenet_v1:alpha=0.75 mobilenet_v2 shufflenet_v2:alpha=1.5 shufflenet_v1:alpha=2,groups=8."""
    _outputs_first([output], models, device)
    from .present.report import write_comparison

    write_comparison(output, list(models), device=device, dtype=dtype, batch=batch, fused=fused,
                     timeout=check_seconds(timeout))
    click.echo(f"costmodel: wrote {output}", err=True)


@cli.command(name="bench")
@click.argument("model")
@_setting(imports=False)
@click.option("--warmup", type=int, default=5, show_default=True, help="Runs before timing.")
@click.option("--repeats", type=int, default=30, show_default=True,
              help="Timed runs of the whole network, and as many with a clock per layer, in interleaved rounds.")
@click.option("--windows", type=int, default=5, show_default=True,
              help="Windows the runs are cut into: each figure's spread is how far its minimum moved between them.")
@click.option("--threads", type=int, default=1, show_default=True, help="torch's CPU threads.")
@click.option("--engine", type=click.Choice(["torch", "onnxruntime"]), default="torch", show_default=True,
              help="What runs the network: torch's eager CPU, or ONNX Runtime (the network or module exported to "
                   "ONNX, an ONNX file as it is; each kernel of the graph it runs timed by its profiler).")
@click.option("--timeout", type=float, default=600.0, show_default=True, help="Seconds for the whole run.")
@click.option("--format", "fmt", type=_FORMAT, default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE instead of standard output.")
def bench_command(setting: Setting, warmup: int, repeats: int, windows: int, threads: int, engine: str,
                  timeout: float, fmt: str, output: str | None) -> None:
    """Measured latency of MODEL on this machine's CPU with torch (or ONNX Runtime, --engine): the minimum of the
    whole network's runs and of each layer's, each with its spread between windows of the run, and the time between
    the layers, in a child process under --timeout."""
    _outputs_first([output], [setting.model])
    from .latency.bench import bench
    from .present import render

    result = bench(setting, warmup=warmup, repeats=repeats, threads=threads, timeout=timeout, windows=windows,
                   progress=sys.stderr is not None and sys.stderr.isatty(), engine=engine)
    _emit(render(result, fmt), output)


@cli.command(name="calibrate")
@click.option("--name", default="this-cpu", show_default=True, help="The profile's name.")
@click.option("--threads", type=int, default=1, show_default=True, help="The engine's CPU threads.")
@click.option("--engine", type=click.Choice(["torch", "onnxruntime"]), default="torch", show_default=True,
              help="What runs the kernels: torch's eager CPU (prices the unfused view), or ONNX Runtime's CPU "
                   "provider (the fused view; needs costmodel[onnxruntime]).")
@click.option("--samples", type=int, default=24, show_default=True, help="Kernels measured per layer kind.")
@click.option("--repeats", type=int, default=15, show_default=True, help="Timed runs per kernel (the minimum).")
@click.option("--networks", type=int, default=24, show_default=True,
              help="Synthetic networks timed whole, to fit what a layer costs in a network beyond its kernel.")
@click.option("--timeout", type=float, default=900.0, show_default=True, help="Seconds for the whole run.")
@click.option("-o", "--output", required=True, metavar="FILE", help="The profile to write (TOML).")
def calibrate_command(name: str, threads: int, engine: str, samples: int, repeats: int, networks: int,
                      timeout: float, output: str) -> None:
    """Measure kernels of every layer kind on this CPU with torch (or ONNX Runtime) and write a device profile: per
    kind, latency = overhead + per mult-add + per byte, fitted, and a layer's cost in a network beyond its kernel
    (scale and us per layer), fitted on --networks synthetic networks (use it with table --device FILE)."""
    _outputs_first([output])
    from .latency.bench import calibrate

    profile = calibrate(name, threads=threads, per_kind=samples, repeats=repeats, timeout=timeout, networks=networks,
                        progress=sys.stderr is not None and sys.stderr.isatty(), engine=engine)
    _emit(profile.to_toml(), output)


def _grid_counting_options(command: Any) -> Any:
    """The options sweep and fit share for counting a grid: batch, convention, dtype, model options, and what an
    imported module takes."""
    return _flags("batch", "convention", "dtype", "options", "input_size", "submodule", "strict", "timeout")(command)


@cli.command(name="sweep")
@click.argument("model")
@click.option("--alpha", "alpha_range", default="1", show_default=True, metavar="START:STOP:STEP",
              help="Width multipliers: a value, an inclusive range, or a comma list of them (0.35,0.5,1).")
@click.option("--resolution", "resolution_range", default=None, metavar="START:STOP:STEP|HxW",
              help="Input sizes: a value, an inclusive range, a comma list of them, or one HxW size (default: the "
                   "network's base size).")
@click.option("--rho", "rho_range", default=None, metavar="START:STOP:STEP",
              help="Resolution multipliers of the base size: a value, an inclusive range or a comma list (instead of "
                   "--resolution).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="Output format (a sweep is for programs: CSV or JSON).")
@click.option("--depth", "depth_range", default=None, metavar="START:STOP:STEP",
              help="Depth multipliers: a value or an inclusive range (adds a depth column; default: depth 1).")
@_grid_counting_options
@click.option("-o", "--output", default=None, metavar="FILE", help="Write the CSV to FILE.")
def sweep_command(model: str, alpha_range: str, resolution_range: str | None, rho_range: str | None, fmt: str,
                  depth_range: str | None, batch: int, convention: str, dtype: str, options: Sequence[str],
                  input_size: str | None, submodule: str | None, strict: bool, timeout: float,
                  output: str | None) -> None:
    """Every total of MODEL at every point of a (depth x) alpha x resolution (or rho) grid, as CSV (one row per
    point)."""
    from .design.sweep import parse_range, parse_resolutions, sweep

    _outputs_first([output], [model])
    if resolution_range is not None and rho_range is not None:
        raise CostModelError("give --resolution or --rho, not both")
    alphas = parse_range(alpha_range, "alpha", integer=False)
    resolutions = parse_resolutions(resolution_range) if resolution_range is not None else None
    rhos = parse_range(rho_range, "rho", integer=False) if rho_range is not None else None
    depths = parse_range(depth_range, "depth", integer=False) if depth_range is not None else None
    result = sweep(model, alphas, resolutions, rhos=rhos, batch=batch, convention=convention, dtype=dtype,
                   options=_parse_options(options, input_size, strict, timeout, model, submodule), depths=depths)
    if fmt == "json":
        from .present import render

        _emit(render(result, "json"), output)
        return
    _emit(result.csv_bytes(), output)


@cli.command(name="fit")
@click.argument("model")
@click.option("--max-params", default=None, metavar="N", help="Most parameters (K, M, G: 2M).")
@click.option("--max-madds", default=None, metavar="N", help="Most mult-adds (150M).")
@click.option("--max-flops", default=None, metavar="N", help="Most FLOPs under --convention (300M).")
@click.option("--max-memory-access", default=None, metavar="BYTES", help="Most memory access (kB, MB, GB: 50MB).")
@click.option("--max-peak-memory", default=None, metavar="BYTES", help="Most peak activation memory (1MB).")
@click.option("--max-latency", default=None, metavar="TIME",
              help="Most predicted latency (ms, s, us: 20ms), with --device.")
@click.option("--max-train-memory", default=None, metavar="BYTES",
              help="Most memory of a training step at --batch (24GB): parameters, gradients, --optimizer's state, "
                   "saved activations and the largest transient (costmodel table --training).")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam", "adamw"]), default="sgd",
              show_default=True, help="With --max-train-memory: the optimizer whose state the step holds.")
@click.option("--largest-batch", is_flag=True,
              help="With --max-train-memory alone: the largest batch whose training step fits, at the one setting "
                   "--alpha, --resolution and --depth give (default the model's own).")
@click.option("--device", "profile_path", default=None, metavar="PROFILE",
              help="A device file with a calibrated [profile] (costmodel calibrate; the file report's --device "
                   "reads), which predicts the latency --max-latency limits.")
@click.option("--alpha", "alpha_range", default=None, metavar="START:STOP:STEP",
              help="Width multipliers searched (default 0.25:1.5:0.05, or the model's own widths).")
@click.option("--resolution", "resolution_range", default=None, metavar="START:STOP:STEP",
              help="Input sizes searched (default 96 to 1.5 x the base size, by 8).")
@click.option("--depth", "depth_range", default=None, metavar="START:STOP:STEP",
              help="Depth multipliers searched, for a model with repeated stages (default: depth 1, or 1:2:0.1 "
                   "where the family published depth scaling: EfficientNet).")
@_grid_counting_options
@click.option("--compare", "others", multiple=True, metavar="MODEL",
              help="Another model whose front under the same limits is set beside (repeatable).")
@click.option("--plot", "plot_path", default=None, metavar="FILE.png",
              help="Draw every front against the published accuracies, as a PNG (imports matplotlib).")
@click.option("--all", "every_row", is_flag=True,
              help="List every setting of the front in text and Markdown (by default a long front shows the one "
                   "with the most mult-adds at each of a dozen resolutions, and every published setting; CSV and "
                   "JSON hold every setting).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "markdown", "html"]), default=None,
              help="Output format (default: text, or by the -o file's extension).")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="Write the front to FILE (.csv, .json, .md, or .html: a page with the plot and every front).")
def fit_command(model: str, max_params: str | None, max_madds: str | None, max_flops: str | None,
                max_memory_access: str | None, max_peak_memory: str | None, max_latency: str | None,
                max_train_memory: str | None, optimizer: str, largest_batch: bool,
                profile_path: str | None, alpha_range: str | None,
                resolution_range: str | None, depth_range: str | None, batch: int, convention: str, dtype: str,
                options: Sequence[str], input_size: str | None, submodule: str | None, strict: bool, timeout: float,
                others: Sequence[str], plot_path: str | None, every_row: bool, fmt: str | None,
                output: str | None) -> None:
    """The settings of MODEL that meet every limit and are maximal (no other setting that meets them is at least as
    wide, as large an input and as deep): the front a designer chooses from, with exact costs, largest first.
    Exit status 1 when no setting of the grid meets the limits."""
    from .design.fit import read_limits, search
    from .design.sweep import parse_range
    from .core.units import parse_milliseconds

    _outputs_first([output, plot_path], [model, *others], profile_path)
    limits = read_limits({"max_params": max_params, "max_madds": max_madds, "max_flops": max_flops,
                          "max_memory_access": max_memory_access, "max_peak_memory": max_peak_memory})
    if largest_batch:
        _largest_batch(model, max_train_memory, bool(limits or max_latency or others or plot_path), optimizer,
                       alpha_range, resolution_range, depth_range, dtype,
                       _parse_options(options, input_size, strict, timeout, model, submodule), fmt, output)
        return
    train_bytes = parse_quantity(max_train_memory, BYTES, "max_train_memory") if max_train_memory else None
    profile = None
    if profile_path is not None:
        from .latency.devices import load_profile

        profile = load_profile(profile_path)
    latency = parse_milliseconds(max_latency, "max_latency") if max_latency is not None else None
    if fmt is None:
        suffix = (output or "").rsplit(".", 1)[-1].lower()
        fmt = {"md": "markdown"}.get(suffix, suffix) if output and suffix in ("csv", "json", "md", "html") else "text"
    if plot_path is not None and not plot_path.lower().endswith(".png"):
        raise CostModelError(f"--plot writes a PNG: name a .png file, got {plot_path!r}")
    if others and fmt == "csv":
        raise CostModelError("--compare prints several fronts: use --format text, json or markdown, not csv")
    if resolution_range and "x" in resolution_range.lower():
        raise CostModelError(f"fit searches square inputs: --resolution takes START:STOP:STEP or N, got "
                             f"{resolution_range!r}")
    grid = (parse_range(alpha_range, "alpha", integer=False) if alpha_range else None,
            parse_range(resolution_range, "resolution", integer=True) if resolution_range else None,
            parse_range(depth_range, "depth", integer=False) if depth_range else None)
    own = _parse_options(options, input_size, strict, timeout, model, submodule)
    fronts = [search(name, limits, *grid, options=own if name == model else _parse_options((), timeout=timeout,
                                                                                          model=name), batch=batch,
                     convention=convention, dtype=dtype, max_latency_ms=latency, profile=profile,
                     max_train_bytes=train_bytes, optimizer=optimizer)
              for name in (model, *others)]
    if fmt == "html":
        from .present.report.fit import fronts_page

        text = fronts_page(fronts)
    else:
        from .present import render

        text = render(fronts, fmt, every_row=every_row)
    if plot_path is not None:
        import io

        from .present.report.fit import front_plot

        png = io.BytesIO()
        front_plot(fronts, path=png)
        write_atomic(plot_path, png.getvalue())
        click.echo(f"costmodel: wrote {plot_path}", err=True)
    _emit(text, output)
    empty = [front for front in fronts if not front.rows]
    if empty:
        from .present.fronts import describe_limits, shortfall

    for front in empty:
        click.echo(f"costmodel: no setting of the {front.model} grid meets {describe_limits(front)} "
                   f"({shortfall(front)})", err=True)
    if empty:
        sys.exit(1)


def _largest_batch(model: str, max_train_memory: str | None, other_limits: bool, optimizer: str,
                   alpha: str | None, resolution: str | None, depth: str | None, dtype: str, options: Any,
                   fmt: str | None, output: str | None) -> None:
    """``fit --largest-batch``: the largest batch whose training step fits --max-train-memory at one setting."""
    from .design.fit import largest_batch

    if max_train_memory is None or other_limits:
        raise CostModelError("--largest-batch answers one setting's batch under --max-train-memory alone (no other "
                             "limit, --compare or --plot)")

    def one(text: str | None, flag: str, kind: type) -> Any:
        if text is None:
            return None
        try:
            return kind(text)
        except ValueError:
            raise CostModelError(f"--largest-batch costs one setting: {flag} takes one value, got {text!r}") from None
    found = largest_batch(model, max_train_memory, alpha=one(alpha, "--alpha", float),
                          resolution=one(resolution, "--resolution", int), depth=one(depth, "--depth", float),
                          options=options, optimizer=optimizer, dtype=dtype)
    if fmt == "json":
        _emit(json_text(found.to_dict()), output)
        return
    if fmt not in (None, "text"):
        raise CostModelError("--largest-batch prints text or JSON")
    _emit(f"{printable(found.model)} at alpha {found.alpha:g}, {found.resolution[0]}x{found.resolution[1]}"
          f"{f', depth {found.depth:g}' if found.depth != 1 else ''}, {found.optimizer}, {dtype}: the largest batch "
          f"whose training step fits {si_bytes(found.limit_bytes)} is {found.batch:,}\n"
          f"peak at {found.batch:,}: {found.peak_bytes:,} B; at {found.batch + 1:,}: {found.next_peak_bytes:,} B\n"
          f"a step holds {found.fixed_bytes:,} B whatever the batch (parameters, gradients, optimizer state, "
          f"statistics)\nand {found.per_sample_bytes:,} B per image (saved activations and gradients)\n", output)


@cli.command(name="advise")
@click.argument("model")
@_setting("fused", "convention", "dtype")
@click.option("--device", "profile_path", default=None, metavar="PROFILE",
              help="A device file with a calibrated [profile] (costmodel calibrate): each edit's predicted latency, "
                   "and the list ranked by it.")
@click.option("--top", type=click.IntRange(1, 10_000), default=10, show_default=True,
              help="The edits listed in text and Markdown, those that save most.")
@click.option("--all", "every", is_flag=True, help="List every edit tried, whatever it saves.")
@click.option("--format", "fmt", type=_FORMAT, default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE instead of standard output.")
def advise_command(setting: Setting, profile_path: str | None, top: int, every: bool, fmt: str,
                   output: str | None) -> None:
    """What-if edits of MODEL, each recounted exactly and ranked by what it saves (predicted latency with
    --device, memory access otherwise): per stage its widths, expansion, depthwise kernels, blocks,
    squeeze-excite, activations and groups; the input size; channels rounded to multiples of 8 and 16."""
    from .design.advise import advise
    from .present import render

    _outputs_first([output], [setting.model], profile_path)
    profile = None
    if profile_path is not None:
        from .latency.devices import load_profile

        profile = load_profile(profile_path)
    _emit(render(advise(setting, profile=profile), fmt, every_row=every, top=top), output)


@cli.command(name="list")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
def list_models(fmt: str) -> None:
    """The zoo's models: description, source, what each accepts, and its options."""
    from .sources.zoo import MODELS

    if fmt == "json":
        entries: list[dict[str, Any]] = [
            {"name": e.name, "description": e.description, "source": e.source, "alpha": e.accepts_alpha,
             "depth": e.accepts_depth, "resolution": e.accepts_resolution,
             "num_classes": 1000 if e.classifier else None,
             "options": [{"name": o.name, "type": o.type.__name__, "default": o.default, "choices": list(o.choices),
                          "help": o.help} for o in e.options]}
            for e in MODELS.values()]
        _emit(json_text(entries), None)
        return
    if fmt == "markdown":
        listing = Table(("model", "description", "source", "options"), align=("l", "l", "l", "l"))
        for entry in MODELS.values():
            listing.add(entry.name, entry.description, entry.source, "; ".join(_accepts(entry)) or "-")
        _emit(listing.markdown(), None)
        return
    width = max(len(name) for name in MODELS) + 2
    lines = []
    for entry in MODELS.values():
        lines.append(f"{entry.name.ljust(width)}{entry.description}")
        lines.append(f"{'':{width}}source: {entry.source}")
        lines += [f"{'':{width}}{line}" for line in _accepts(entry)]
    lines.append("\nModel options are given as -O NAME=VALUE (costmodel table MODEL -O groups=8). Every model with a "
                 "classifier (all but blazeface_backbone) and every spec file takes -O num_classes=N (default 1000): "
                 "it changes the classifier and nothing else.")
    _emit("\n".join(lines) + "\n", None)


def _accepts(entry: Any) -> list[str]:
    """What a zoo model accepts beyond the defaults, one line each."""
    lines = []
    if not entry.accepts_alpha:
        lines.append("no width multiplier (alpha must be 1)")
    elif entry.alpha_choices:
        lines.append(f"alpha: {', '.join(f'{a:g}' for a in entry.alpha_choices)} only")
    if entry.accepts_depth:
        lines.append("--depth D: each repeated stage of n blocks keeps ceil(D x n)")
    if not entry.accepts_resolution:
        lines.append("fixed input size (no --rho or --resolution)")
    if not entry.classifier:
        lines.append("no classifier (no -O num_classes)")
    for option in entry.options:
        allowed = "|".join(map(str, option.choices)) or option.type.__name__
        lines.append(f"-O {option.name}={option.default}  ({allowed}) {option.help}".rstrip())
    return lines


def _papers_help() -> str:
    from .reproduce import PAPERS

    return ", ".join(PAPERS)


@cli.command(epilog="PAPER is one of: mobilenet_v1, mobilenet_v2, mobilenet_v3, shufflenet_v1, shufflenet_v2, "
                    "xception, deit, mobilevit, efficientnet, mnasnet, ghostnet, mobilenet_v4, efficientformer "
                    "(costmodel reproduce --list names their tables).")
@click.argument("paper", required=False)
@click.option("--list", "listing", is_flag=True, help="List the papers and their tables, then stop.")
@click.option("--table", "which", default="all", show_default=True, metavar="N|all",
              help="Which table of the paper.")
@click.option("--format", "fmt", type=_FORMAT, default="text", show_default=True,
              help="Output format (CSV: one table, named with --table).")
@click.option("--write", is_flag=True,
              help="Also regenerate the Markdown pages (DIR/<paper>/table<N>.md, under --reports-dir).")
@click.option("--reports-dir", default=None, metavar="DIR",
              help="Where --write regenerates the pages (default: reports); giving it asks for --write.")
@click.option("--no-write", is_flag=True, hidden=True, help="Print only (the default; kept for old scripts).")
@click.option("--html", is_flag=True, help="Also write each table as an HTML page (DIR/<paper>/table<N>.html); "
                                           "asks for --write.")
@click.option("--device", "profile_path", default=None, metavar="PROFILE",
              help="A device file with a calibrated [profile] (costmodel calibrate; the file report's --device "
                   "reads): adds the calibrated column to the latency table.")
@click.option("--measure", is_flag=True,
              help="With --table latency: also time each network on this CPU (torch) and carry it to the Pixel 1 by "
                   "one constant.")
def reproduce(paper: str | None, listing: bool, which: str, fmt: str, write: bool, reports_dir: str | None,
              no_write: bool, html: bool, profile_path: str | None, measure: bool) -> None:
    """A paper's tables regenerated by costmodel, beside the printed figures, on standard output. ShuffleNetV2's
    Tables 1-4 (its micro-benchmarks) are measured on this CPU when named (--table 1); the MobileNets' latency table
    sets the published Pixel 1 latencies beside costmodel's estimates. --write regenerates the Markdown pages too."""
    from .latency.devices import load_profile
    from .present.reproductions import write_reports
    from .reproduce import paper_list, reproductions

    if listing:
        _emit(paper_list(), None)
        return
    if paper is None:
        raise CostModelError(f"give a PAPER: one of {_papers_help()} (costmodel reproduce --list names their "
                             "tables)")
    if no_write and (write or reports_dir is not None or html):
        raise CostModelError("--no-write and --write (or --reports-dir, --html) ask for opposite things: give one")
    write = write or reports_dir is not None or html
    profile = load_profile(profile_path) if profile_path else None
    items = reproductions(paper, which, progress=sys.stderr.isatty(), profile=profile, measure=measure)
    if fmt == "csv" and len(items) > 1:
        raise CostModelError(f"CSV holds one table and {paper} has {len(items)}: name one with --table N, or use "
                             "--format text, json or markdown")
    from .present import render

    _emit(render(items, fmt), None)
    if write:
        for path in write_reports(reports_dir or "reports", items, html=html):
            click.echo(f"costmodel: wrote {path}", err=True)


# the flag of each parameter whose flag is not its name with dashes (``max_madds`` is ``--max-madds``)
FLAG_OF = {"profile": "--device", "input": "--input", "input_size": "--input", "submodule": "--module",
           "alphas": "--alpha", "resolutions": "--resolution", "depths": "--depth", "rhos": "--rho",
           "per_kind": "--samples", "max_latency_ms": "--max-latency", "frozen": "--freeze"}


def flag_of(parameter: Parameter) -> str:
    """How the command line names a parameter a library message names: its flag, with the flag's value where the
    message gives one (``--device PROFILE``)."""
    flag = FLAG_OF.get(parameter.name, "--" + parameter.name.replace("_", "-"))
    return f"{flag} {parameter.metavar}" if parameter.metavar else flag


def _message(error: CostModelError) -> str:
    """What the command line says of ``error``: the library's message, with its flags for parameters' names."""
    return error.said(flag_of) if isinstance(error, ParameterError) else str(error)


def _fail(message: str, status: int = 2) -> NoReturn:
    """One line on stderr: the message with whitespace collapsed, control characters escaped and long echoed input
    cut; then exit with ``status``."""
    click.echo(f"costmodel: error: {printable(shorten(' '.join(message.split())))}", err=True)
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI; turn bad input into one line on stderr and status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:                                       # a bare `costmodel`: the overview, like --help
        args = ["--help"]
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():     # handlers can be set from the main thread only
        previous = {number: signal.signal(number, _on_signal) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with cli.make_context("costmodel", args) as context:
            status = cli.invoke(context)
    except click.exceptions.Exit as done:              # --help, --version
        status = done.exit_code
    except click.ClickException as error:              # usage errors: bad flags, values, commands
        _fail(error.format_message())
    except CostModelError as error:
        _fail(_message(error))
    except (KeyboardInterrupt, click.exceptions.Abort):
        _fail("interrupted", 130)
    except OutputError as error:
        _fail(str(error), 1)
    except Stopped as stop:
        _fail(f"terminated by {signal.Signals(stop.signum).name}", 128 + stop.signum)
    except BrokenPipeError:
        # The reader went away (``costmodel table ... | head``): stop quietly, without a traceback at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    sys.exit(status if isinstance(status, int) else 0)
