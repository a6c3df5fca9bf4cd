"""What ``--device`` names on report and compare: a roofline (peak compute and memory bandwidth, from the presets
file or a ``[device]`` table) and, from a file written by ``costmodel calibrate`` (a ``[profile]`` table), a
calibrated latency profile. One TOML file may hold both."""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import CostModelError
from .latency import Profile, load_profile

DEFAULT_DEVICE = "pixel1-big-core"
LIMITS = (1e-6, 1e9)          # GFLOP/s and GB/s a device file may state (a thousand FLOP/s to an exaFLOP/s)
_FIELDS = {"description", "peak_gflops", "bandwidth_gbps", "source", "name"}


@dataclass(frozen=True)
class Device:
    """A roofline: ``peak_gflops`` (10^9 FLOP/s) and ``bandwidth_gbps`` (10^9 bytes/s)."""

    name: str
    description: str
    peak_gflops: float
    bandwidth_gbps: float
    source: str

    @property
    def ridge(self) -> float:
        """The arithmetic intensity (FLOPs per byte) where the compute roof meets the bandwidth roof."""
        return self.peak_gflops / self.bandwidth_gbps

    def seconds(self, flops: int, bytes_moved: int) -> float:
        """Roofline time of a layer: the slower of computing its FLOPs and moving its bytes."""
        return max(flops / (self.peak_gflops * 1e9), bytes_moved / (self.bandwidth_gbps * 1e9))


def _device(name: str, table: object, where: str) -> Device:
    if not isinstance(table, dict):
        raise CostModelError(f"{where}: device {name!r} must be a table of fields")
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise CostModelError(f"{where}: device {name!r}: unknown field {unknown[0]!r}")
    values = {}
    for field in ("peak_gflops", "bandwidth_gbps"):
        value = table.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
                not LIMITS[0] <= value <= LIMITS[1]:
            raise CostModelError(f"{where}: device {name!r}: {field} must be a number in [{LIMITS[0]:g}, "
                                 f"{LIMITS[1]:g}], got {value!r}")
        values[field] = float(value)
    for field in ("description", "source"):
        if not isinstance(table.get(field, ""), str):
            raise CostModelError(f"{where}: device {name!r}: {field} must be a string")
    return Device(str(table.get("name", name)), table.get("description", ""), values["peak_gflops"],
                  values["bandwidth_gbps"], table.get("source", where))


def presets() -> dict[str, Device]:
    """The devices of ``costmodel/data/devices.toml``."""
    text = resources.files("costmodel").joinpath("data", "devices.toml").read_text(encoding="utf-8")
    return {name: _device(name, table, "devices.toml") for name, table in tomllib.loads(text).items()}


def load_device(name_or_path: str = DEFAULT_DEVICE) -> Device:
    """A preset by name, or the ``[device]`` table of a TOML file."""
    known = presets()
    if name_or_path in known:
        return known[name_or_path]
    path = Path(name_or_path)
    if not (name_or_path.endswith(".toml") or path.is_file()):
        raise CostModelError(f"unknown device {name_or_path!r}; presets: {', '.join(known)} (or a .toml file)")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CostModelError(f"device file {name_or_path!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CostModelError(f"cannot read device file {name_or_path!r}: {error}") from None
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise CostModelError(f"{name_or_path}: invalid TOML: {error}") from None
    except RecursionError:
        raise CostModelError(f"{name_or_path}: invalid TOML: nested too deeply") from None
    if "device" not in document:
        raise CostModelError(f"{name_or_path}: no [device] table")
    return _device(path.stem, document["device"], name_or_path)


@dataclass(frozen=True)
class Target:
    """A device as the report reads it: its roofline and, when the file has one, its calibrated profile."""

    device: Device
    profile: Profile | None = None


def load_target(name_or_path: str = DEFAULT_DEVICE) -> Target:
    """A preset by name; or a TOML file's ``[device]`` table (the roofline) and ``[profile]`` with ``[kinds.*]``
    (a calibrated profile), either or both. A file with a profile and no roofline keeps the default preset's
    roofline."""
    if name_or_path in presets() or not Path(name_or_path).is_file():
        return Target(load_device(name_or_path))
    try:
        document = tomllib.loads(Path(name_or_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, RecursionError):
        return Target(load_device(name_or_path))          # which says what is wrong, in one line
    if "profile" not in document:
        return Target(load_device(name_or_path))
    device = load_device(name_or_path) if "device" in document else load_device()
    return Target(device, load_profile(name_or_path))
