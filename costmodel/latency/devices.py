"""What ``--device`` names: a roofline (peak compute and memory bandwidth, from the presets file or a ``[device]``
table) and, from a file written by ``costmodel calibrate`` (a ``[profile]`` table with ``[kinds.*]``), a calibrated
latency profile. One TOML file may hold both. Every device file is read once, through ``tomlfiles.read_toml`` (a
regular file of at most 4 MiB, with the guards spec files have), and every field of every table is checked."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..core.errors import CostModelError
from .profiles import Profile, profile_from
from ..core.tomlfiles import number_in, read_toml

DEFAULT_DEVICE = "pixel1-big-core"
LIMITS = (1e-6, 1e9)          # GFLOP/s and GB/s a device file may state (a thousand FLOP/s to an exaFLOP/s)
_FIELDS = ("name", "description", "source", "peak_gflops", "bandwidth_gbps")
_TABLES = ("device", "profile", "kinds", "context")


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


def _device(name: str, table: object, where: str, header: str) -> Device:
    """A roofline table, every field checked: ``name`` is the device's name when the table gives none, ``where``
    the file and ``header`` the table (``[device]``, or a preset's ``[pixel1-big-core]``) for messages."""
    if not isinstance(table, dict):
        raise CostModelError(f"{where}: {header} must be a table of {', '.join(_FIELDS)}, got {table!r}")
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise CostModelError(f"{where}: {header} unknown field {unknown[0]!r} (known: {', '.join(_FIELDS)})")
    values = {}
    for field in ("peak_gflops", "bandwidth_gbps"):
        value = table.get(field)
        if value is None or not number_in(value, *LIMITS):
            raise CostModelError(f"{where}: {header} {field} must be a number in [{LIMITS[0]:g}, "
                                 f"{LIMITS[1]:g}], got {value!r}")
        values[field] = float(value)
    for field in ("name", "description", "source"):
        if not isinstance(table.get(field, ""), str):
            raise CostModelError(f"{where}: {header} {field} must be a string, got {table[field]!r}")
    return Device(table.get("name", name), table.get("description", ""), values["peak_gflops"],
                  values["bandwidth_gbps"], table.get("source", where))


def presets() -> dict[str, Device]:
    """The devices of ``costmodel/data/devices.toml``."""
    text = resources.files("costmodel").joinpath("data", "devices.toml").read_text(encoding="utf-8")
    return {name: _device(name, table, "devices.toml", f"[{name}]") for name, table in tomllib.loads(text).items()}


@dataclass(frozen=True)
class Target:
    """A device as the report reads it: its roofline and, when the file has one, its calibrated profile."""

    device: Device
    profile: Profile | None = None


def _read_file(path: str) -> tuple[Device | None, Profile | None]:
    """The roofline and the profile of a device file, either of which may be absent (not both): the file read once
    (``tomlfiles.read_toml``: a regular file of at most 4 MiB, with every guard) and every table checked."""
    document, _ = read_toml(path, "device file")
    unknown = sorted(set(document) - set(_TABLES))
    if unknown:
        raise CostModelError(f"{path}: unknown table {unknown[0]!r} (a device file holds "
                             f"{', '.join(f'[{table}]' for table in _TABLES)})")
    device = _device(Path(path).stem, document["device"], path, "[device]") if "device" in document else None
    profile = profile_from(document, path) if {"profile", "kinds", "context"} & set(document) else None
    if device is None and profile is None:
        raise CostModelError(f"{path}: a device file needs a [device] table (a roofline) or a [profile] table with "
                             "[kinds.*] tables (costmodel calibrate writes one)")
    return device, profile


def _names_a_file(name_or_path: str) -> bool:
    """Whether ``--device`` names a file rather than a preset: a .toml name, a path, or anything that exists (a FIFO
    or a device too, which the reader then refuses unread)."""
    return name_or_path.endswith(".toml") or os.sep in name_or_path or os.path.lexists(name_or_path)


def load_target(name_or_path: str = DEFAULT_DEVICE) -> Target:
    """What ``--device`` names on report and compare.

    :param name_or_path: a preset's name, or a TOML file with a ``[device]`` table (the roofline) and/or a
        ``[profile]`` with ``[kinds.*]`` tables (a calibrated profile).
    :returns: the roofline and the profile (None for a preset or a file without one); a file with a profile and no
        roofline keeps the default preset's roofline.
    :raises CostModelError: one line: an unknown preset, or a file that cannot be read or has any field wrong.
    """
    known = presets()
    if name_or_path in known:
        return Target(known[name_or_path])
    if not _names_a_file(name_or_path):
        raise CostModelError(f"unknown device {name_or_path!r}; presets: {', '.join(known)} (or a .toml file)")
    device, profile = _read_file(name_or_path)
    return Target(device or known[DEFAULT_DEVICE], profile)


def load_device(name_or_path: str = DEFAULT_DEVICE) -> Device:
    """A roofline: a preset by name, or the ``[device]`` table of a device file (read as ``load_target`` reads it).

    :param name_or_path: a preset's name or a file.
    :returns: the roofline.
    :raises CostModelError: as ``load_target``, and for a file without a ``[device]`` table.
    """
    known = presets()
    if name_or_path in known:
        return known[name_or_path]
    if not _names_a_file(name_or_path):
        raise CostModelError(f"unknown device {name_or_path!r}; presets: {', '.join(known)} (or a .toml file)")
    device, _ = _read_file(name_or_path)
    if device is None:
        raise CostModelError(f"{name_or_path}: no [device] table (a roofline: peak_gflops, bandwidth_gbps)")
    return device


def load_profile(path: str) -> Profile:
    """The calibrated profile of a device file (``--device`` on table, fit and reproduce), the whole file read once
    and checked as ``load_target`` checks it.

    :param path: a file written by ``costmodel calibrate`` (it may hold a ``[device]`` roofline too).
    :returns: the profile.
    :raises CostModelError: one line naming the file (and the table and field): a preset's name (a roofline
        predicts no latency), a file that cannot be read, has any field wrong or holds no profile.
    """
    if path in presets():
        raise CostModelError(f"device {path!r} is a roofline preset, which predicts no latency: give a profile "
                             "written by costmodel calibrate")
    _, profile = _read_file(path)
    if profile is None:
        raise CostModelError(f"{path}: no [profile] table: a latency prediction needs a device profile "
                             "(costmodel calibrate writes one)")
    return profile
