"""A ``.pt2`` file (``torch.export.save``) read without running anything from it.

``torch.export.load`` trusts its file, and several of its steps run code the file brings: it unpickles the sample
inputs with ``weights_only=False`` when the safe load fails, and weights and constants marked ``use_pickle`` the same
way; it unpickles custom and opaque objects; it loads the compiled libraries of ``data/aotinductor/``; it falls back to
an older archive format (unpickled again) when the current one fails; it parses the symbolic sizes of the program's
JSON with ``sympy.sympify``, which evaluates Python; and ``ExportedProgram.module()`` executes the program's
``guards_code``. So costmodel checks the archive itself before torch sees it (``read_program``):

- the file is a regular file of at most ``MAX_BYTES``, read once into memory, so what torch parses is what was checked;
- every entry lies in the archive's one root folder and is an entry of the current format (``ENTRIES``): no compiled
  code, no older format, no duplicate names; the sizes the archive declares add up to at most ``MAX_BYTES`` and to at
  most twice the file's size plus ``SLACK`` (torch stores its entries uncompressed: a zip bomb is refused before
  anything is inflated), and to what the machine's available memory holds;
- no weight or constant is pickled (``use_pickle``) or a custom or opaque object; the sample inputs load with
  ``torch.load(weights_only=True)``, the restricted unpickler;
- every symbolic size is an arithmetic expression of size symbols (``SYMBOLIC_SIZE``), and ``guards_code`` (checks
  torch runs before a call, never needed to count) is emptied.

torch then loads the checked bytes with ``torch.load`` held to ``weights_only=True`` and ``sympify`` held to the same
grammar (``_guarded``), so a path this module does not know of fails rather than runs code. A refused file ends in one
line that says why and how to make a file costmodel reads.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from typing import Any, Iterator

from ...core.errors import CostModelError, first_line, shorten
from ...core.fileio import read_bounded

MAX_BYTES = 2 * 1024 ** 3          # a file, and the entries it expands to (ViT-L in float32 is 1.2 GB)
SLACK = 64 * 1024 ** 2             # what the declared sizes may exceed twice the file's size by
MAX_ENTRIES = 100_000
MAX_JSON_BYTES = 256 * 1024 ** 2   # a program's graph, a weights or constants table

# the entries of torch's archive format, below its root folder (torch/export/pt2_archive/constants.py)
ENTRIES = re.compile(r"(archive_format|archive_version|byteorder|\.data/version|\.data/serialization_id"
                     r"|models/[^/]+\.json|data/(weights|constants)/[^/]+|data/sample_inputs/[^/]+\.pt"
                     r"|extra/.+)")
FOREIGN = {"data/aotinductor/": "compiled AOTInductor code", "data/executorch/": "an ExecuTorch program",
           "data/mtia/": "compiled MTIA code"}
CONVERT = ("export the module again with torch.export.export and save it with torch.export.save, with tensor "
           "weights and tensor sample inputs, or export it to ONNX")

# A symbolic size as torch writes it (``s0``, ``2*s77 + 1``, ``Max(1, s0)``, ``FloorDiv(s1, 2)``): numbers of at
# most 40 digits, size symbols, operators and the sympy functions of torch's deserializer; no name that could reach
# Python's builtins, and nothing sympy would evaluate without bound on numbers (powers, shifts, factorials:
# ``9**9**9``).
_FUNCTIONS = {"FloorDiv", "ModularIndexing", "Where", "PythonMod", "Mod", "CleanDiv", "CeilToInt", "FloorToInt",
              "CeilDiv", "FloatTrueDiv", "IntTrueDiv", "IsNonOverlappingAndDenseIndicator", "TruncToFloat",
              "TruncToInt", "RoundToInt", "RoundDecimal", "ToFloat", "Identity", "OpaqueUnaryFn_sqrt",
              "BitwiseFn_bitwise_and", "BitwiseFn_bitwise_or", "Max", "Min", "Abs", "floor", "ceiling", "Eq", "Ne",
              "Lt", "Le", "Gt", "Ge", "And", "Or", "Not", "True", "False", "oo", "zoo", "nan", "Integer", "Rational",
              "Float", "int_oo"}
_TOKEN = re.compile(r"\s*(?:(\d{1,40}(?:\.\d{1,40})?(?:[eE][-+]?\d{1,4})?(?![\d.]))|([A-Za-z_][A-Za-z0-9_]*)|"
                    r"(//|\*(?!\*)|[-+/%(),<>=&|~]))")
_SYMBOL = re.compile(r"[a-z]+\d+")
MAX_EXPRESSION = 10_000            # characters of one symbolic size
_UNSUPPORTED = re.compile(r"Unsupported global: GLOBAL ([\w.]{1,100})")      # what the restricted unpickler refused


def safe_expression(text: Any) -> bool:
    """Whether ``text`` is a symbolic size of the grammar above (and short enough to parse in bounded time)."""
    if not isinstance(text, str) or len(text) > MAX_EXPRESSION:
        return False
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            return not text[position:].strip()
        name = match.group(2)
        if name is not None and name not in _FUNCTIONS and not _SYMBOL.fullmatch(name):
            return False
        position = match.end()
    return True


def _entries(archive: zipfile.ZipFile, size: int, where: str) -> "tuple[str, dict[str, zipfile.ZipInfo]]":
    """The archive's root folder and its entries by path below it; one line for anything outside the format or
    over the bounds."""
    infos = archive.infolist()
    if not infos:
        raise CostModelError(f"{where} is an empty archive, not a saved torch.export program")
    if len(infos) > MAX_ENTRIES:
        raise CostModelError(f"{where}: {len(infos):,} entries is more than the limit of {MAX_ENTRIES:,}")
    root = infos[0].filename.split("/", 1)[0]
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        first, _, below = info.filename.partition("/")
        if first != root or not below:
            raise CostModelError(f"{where} is not a saved torch.export program: entry {info.filename!r} is outside "
                                 f"its folder {root!r}")
        if below.endswith("/"):
            continue
        for folder, what in FOREIGN.items():
            if below.startswith(folder):
                raise CostModelError(f"{where} holds {what} ({below}), which costmodel never loads: it runs as "
                                     f"native code; {CONVERT}")
        if not ENTRIES.fullmatch(below):
            raise CostModelError(f"{where}: entry {below!r} is not part of torch.export's archive format (an older "
                                 f"format, or something else); {CONVERT}")
        if below in entries:
            raise CostModelError(f"{where}: entry {below!r} appears twice")
        if info.flag_bits & 0x1:
            raise CostModelError(f"{where}: entry {below!r} is encrypted")
        entries[below] = info
    declared = sum(info.file_size for info in infos)
    bound = min(MAX_BYTES, 2 * size + SLACK)
    if declared > bound:
        raise CostModelError(f"{where}: its entries expand to {declared:,} bytes, more than the limit of {bound:,} "
                             f"for a file of {size:,} bytes (torch stores them uncompressed; a zip bomb?)")
    from ...core.fileio import available_memory

    free = available_memory()
    if free is not None and 2 * declared > free:
        raise CostModelError(f"{where}: loading it needs about {2 * declared / 1e9:.1f} GB, more than the "
                             f"{free / 1e9:.1f} GB of memory available")
    return root, entries


def _json(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> Any:
    name = info.filename.split("/", 1)[1]
    if info.file_size > MAX_JSON_BYTES:
        raise CostModelError(f"{where}: {name} is {info.file_size:,} bytes, more than the limit of "
                             f"{MAX_JSON_BYTES:,}")
    try:
        return json.loads(archive.read(info))
    except RecursionError:
        raise CostModelError(f"{where}: {name} is nested too deeply") from None
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise CostModelError(f"{where}: {name} cannot be read: {first_line(error)}") from None


def _payloads(document: Any, name: str, where: str) -> None:
    """Refuse a weights or constants table that asks for an unpickle (``use_pickle``, custom and opaque
    objects)."""
    table = document.get("config") if isinstance(document, dict) else None
    if not isinstance(table, dict):
        raise CostModelError(f"{where}: {name} has no table of payloads")
    for key, payload in table.items():
        if not isinstance(payload, dict):
            raise CostModelError(f"{where}: {name}: payload {key!r} is not a table")
        file = str(payload.get("path_name", ""))
        if payload.get("use_pickle") or file.startswith(("custom_obj", "opaque_obj")):
            what = "weight" if "weights" in name else "constant"
            raise CostModelError(f"{where}: {what} {shorten(key)!r} is a pickled object, and unpickling can run "
                                 f"code: costmodel reads tensors only; {CONVERT}")


def _expressions(value: Any, where: str) -> None:
    """Refuse any symbolic size (``expr_str``) outside the grammar of ``safe_expression``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            text = item.get("expr_str")
            if text is not None and not safe_expression(text):
                raise CostModelError(f"{where}: the symbolic size {shorten(str(text))!r} is not an expression of "
                                     "sizes (torch would evaluate it as Python)")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _sample_inputs(data: bytes, name: str, where: str) -> None:
    """Refuse sample inputs that the restricted unpickler cannot load (torch would unpickle them in full)."""
    import torch

    try:
        torch.load(io.BytesIO(data), weights_only=True)
    except Exception as error:          # the restricted unpickler refuses what it does not know
        found = _UNSUPPORTED.search(str(error))
        what = f" (they hold {found.group(1)})" if found else ""
        raise CostModelError(f"{where}: its sample inputs ({name}) need a full unpickle, which can run code{what}; "
                             f"{CONVERT}") from None


def checked_archive(path: str) -> bytes:
    """The bytes of the ``.pt2`` file at ``path`` as torch may load them: checked entry by entry (see the module's
    docstring) and with ``guards_code`` emptied; one line naming the file and what is wrong otherwise."""
    where = shorten(path)
    data = read_bounded(path, ".pt2 file", MAX_BYTES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise CostModelError(f"{where} is not a saved torch.export program: {first_line(error)}") from None
    with archive:
        root, entries = _entries(archive, len(data), where)
        models = [name for name in entries if name.startswith("models/")]
        if not models:
            raise CostModelError(f"{where} is not a saved torch.export program: it holds no models/*.json")
        programs = {}
        try:
            for name in sorted(entries):
                info = entries[name]
                if name.endswith("_config.json"):
                    _payloads(_json(archive, info, where), name, where)
                elif name.startswith("models/"):
                    document = _json(archive, info, where)
                    if not isinstance(document, dict):
                        raise CostModelError(f"{where}: {name} is not a program")
                    _expressions(document, where)
                    document["guards_code"] = []
                    programs[name] = json.dumps(document).encode()
                elif name.startswith("data/sample_inputs/") and info.file_size:
                    _sample_inputs(archive.read(info), name, where)
            output = io.BytesIO()
            with zipfile.ZipFile(output, "w", zipfile.ZIP_STORED) as rewritten:
                for name, info in entries.items():
                    if name.startswith("extra/"):
                        continue             # the user's notes; torch returns them as strings, costmodel never
                    rewritten.writestr(f"{root}/{name}", programs.get(name) or archive.read(info))
        except CostModelError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as error:
            raise CostModelError(f"{where} is not a saved torch.export program: {first_line(error)}") from None
    return output.getvalue()


@contextlib.contextmanager
def _guarded() -> Iterator[None]:
    """While torch loads a checked archive: ``torch.load`` only with the restricted unpickler, and ``sympify`` only
    on expressions of sizes; what asks for more raises instead of running."""
    import sympy
    import torch

    load, sympify = torch.load, sympy.sympify

    def restricted_load(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("weights_only") is False:
            raise CostModelError("the program asks for a full unpickle")
        kwargs["weights_only"] = True
        return load(*args, **kwargs)

    def checked_sympify(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not safe_expression(value):
            raise CostModelError(f"the symbolic size {shorten(value)!r} is not an expression of sizes")
        return sympify(value, *args, **kwargs)

    torch.load, sympy.sympify = restricted_load, checked_sympify
    try:
        yield
    finally:
        torch.load, sympy.sympify = load, sympify


def read_program(path: str) -> Any:
    """The ``ExportedProgram`` of the ``.pt2`` file at ``path``, loaded by torch from the checked bytes of
    ``checked_archive`` under ``_guarded``; one line naming the file otherwise."""
    import torch

    data = checked_archive(path)
    from .torch_export import quiet

    try:
        with quiet(), _guarded():
            return torch.export.load(io.BytesIO(data))
    except CostModelError as error:
        raise CostModelError(f"{shorten(path)}: {error}; {CONVERT}") from None
    except Exception as error:         # a file torch cannot read as an ExportedProgram
        raise CostModelError(f"{shorten(path)} is not a saved torch.export program: {first_line(error)}") from None
