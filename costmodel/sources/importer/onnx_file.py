"""An ONNX file read without loading what the counts do not need (needs the ``onnx`` package; not torch).

The model is parsed without its external data (``read_model``). Every tensor it declares (an initializer, a
``Constant`` node's value) is checked against the data behind it (``TensorData.check``): its dims are bounded, and
its raw bytes, its typed values, or its external file's declared range must hold exactly the elements its dims
declare, so a tensor is never counted for data it does not have. A value is read only when a handler needs it
(an integer shape constant), and at most ``MAX_CONSTANT_ELEMENTS`` elements of it (``TensorData.array``); external
data is read from a regular file inside the model's folder only, as the onnx package requires.
"""
from __future__ import annotations

import math
import os
import re
import stat
from typing import Any

from ...core.errors import CostModelError, first_line, shorten
from ...core.fileio import read_bounded

MAX_MODEL_BYTES = (1 << 31) - 1         # protobuf's limit on one message (larger weights go in external data)
MAX_RANK = 32                           # dims of one tensor
MAX_TENSOR_ELEMENTS = 10 ** 12          # elements of one tensor (4 TB of float32)
MAX_CONSTANT_ELEMENTS = 65_536          # elements of one constant costmodel evaluates (shape arithmetic needs few)

# bits per element of each TensorProto.DataType (complex types count both parts); STRING (8) has none
ELEMENT_BITS = {1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64,
                15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2, 27: 6, 28: 6}
STRING = 8
# the typed field that holds each data type's values when it has no raw_data
_FIELDS = {1: "float_data", 14: "float_data", 7: "int64_data", 11: "double_data", 15: "double_data",
           12: "uint64_data", 13: "uint64_data", STRING: "string_data"}
_VALUE_FIELDS = ("float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")
# the types a constant may have to be evaluated: numbers numpy holds as they are, and bool
READABLE = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13}
_NUMBER = re.compile(r"[0-9]{1,19}")


def onnx_package() -> Any:
    """The ``onnx`` package, or one line saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise CostModelError("reading an ONNX file needs the onnx package: pip install 'costmodel[onnx]'") from None
    return onnx


def read_model(path: str) -> Any:
    """The ``ModelProto`` in the file at ``path``, without its external data: a regular file of at most
    ``MAX_MODEL_BYTES`` (``fileio.read_bounded``: a FIFO or a device is refused unread)."""
    onnx = onnx_package()
    raw = read_bounded(path, "ONNX file", MAX_MODEL_BYTES)
    try:
        return onnx.load_model_from_string(raw)
    except Exception as error:        # what protobuf raises on bytes that are not an ONNX model
        raise CostModelError(f"{shorten(path)} is not an ONNX model: {first_line(error)}") from None


def elements(tensor: Any, where: str) -> int:
    """The number of elements ``tensor``'s dims declare: at most ``MAX_RANK`` dims, each non-negative, and at most
    ``MAX_TENSOR_ELEMENTS`` in all."""
    dims = tensor.dims
    if len(dims) > MAX_RANK:
        raise CostModelError(f"{where} has {len(dims)} dims, more than the limit of {MAX_RANK}")
    if any(size < 0 for size in dims):
        raise CostModelError(f"{where} has a negative dim: {list(dims)}")
    count = math.prod(dims)
    if count > MAX_TENSOR_ELEMENTS:
        raise CostModelError(f"{where} declares {count:,} elements (dims {list(dims)}), more than the limit of "
                             f"{MAX_TENSOR_ELEMENTS:,}")
    return count


def _entries(tensor: Any, where: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for entry in tensor.external_data:
        if entry.key in entries:
            raise CostModelError(f"{where}: its external data gives {entry.key!r} twice")
        entries[entry.key] = entry.value
    return entries


class TensorData:
    """The data behind the tensors of one model: checked once each, read only when asked. ``folder`` is the
    model's folder (external data must be a regular file inside it)."""

    def __init__(self, folder: str):
        self.folder = os.path.realpath(folder)
        self._files: dict[str, tuple[str, int]] = {}       # location -> (path, size)

    def check(self, tensor: Any, where: str) -> int:
        """Check that the data behind ``tensor`` holds exactly the elements its dims declare (without reading
        external data); return that number. ``where`` names the tensor in messages."""
        kind = tensor.data_type
        if kind not in ELEMENT_BITS and kind != STRING:
            raise CostModelError(f"{where} has an unknown data type ({kind})")
        count = elements(tensor, where)
        if tensor.data_location == 1:                      # TensorProto.EXTERNAL
            if kind == STRING:
                raise CostModelError(f"{where}: strings cannot be stored as external data")
            self._external(tensor, where, count)
            return count
        present = [name for name in _VALUE_FIELDS if len(getattr(tensor, name))]
        if tensor.HasField("raw_data"):
            present.append("raw_data")
        if len(present) > 1:
            raise CostModelError(f"{where} holds its values in more than one field ({', '.join(present)})")
        if not present:
            if count:
                raise CostModelError(f"{where} declares dims {list(tensor.dims)} ({count:,} elements) but holds no "
                                     "data")
            return 0
        expected = _expected(kind, count, present[0])
        if expected is None:
            raise CostModelError(f"{where}: its values of type {type_name(kind)} cannot be held in {present[0]}")
        held = len(getattr(tensor, present[0]))
        if held != expected:
            unit = "bytes" if present[0] == "raw_data" else "values"
            raise CostModelError(f"{where} declares dims {list(tensor.dims)} ({count:,} elements) but holds "
                                 f"{held:,} {unit} of data, not {expected:,}")
        return count

    def _external(self, tensor: Any, where: str, count: int) -> None:
        entries = _entries(tensor, where)
        path, size = self._file(entries.get("location", ""), where)
        offset = self._number(entries, "offset", 0, where)
        length = self._number(entries, "length", size - offset, where)
        expected = _expected(tensor.data_type, count, "raw_data")
        if offset > size or offset + length > size:
            raise CostModelError(f"{where}: its external data asks for bytes {offset:,} to {offset + length:,} of "
                                 f"{shorten(entries['location'])!r}, which holds {size:,}")
        if length != expected:
            raise CostModelError(f"{where} declares dims {list(tensor.dims)} ({count:,} elements, {expected:,} "
                                 f"bytes) but its external data is {length:,} bytes")

    @staticmethod
    def _number(entries: dict[str, str], key: str, default: int, where: str) -> int:
        if key not in entries:
            return default
        if not _NUMBER.fullmatch(entries[key]):
            raise CostModelError(f"{where}: external data {key} must be a non-negative integer, got "
                                 f"{shorten(repr(entries[key]))}")
        return int(entries[key])

    def _file(self, location: str, where: str) -> tuple[str, int]:
        """The path and size of external data file ``location``: relative, inside the model's folder, a regular
        file that is not a symbolic link and has no other hard link (as the onnx package requires)."""
        if location in self._files:
            return self._files[location]
        parts = re.split(r"[/\\]", location)
        if not location or "\0" in location or os.path.isabs(location) or location.startswith(("/", "\\")) or \
                ".." in parts:
            raise CostModelError(f"{where}: its external data location {shorten(repr(location))} must be a "
                                 "relative path inside the model's folder")
        path = os.path.join(self.folder, location)
        try:
            status = os.lstat(path)
            real = os.path.realpath(path)
            inside = real != self.folder and os.path.commonpath([real, self.folder]) == self.folder
        except (OSError, ValueError) as error:
            raise CostModelError(f"{where}: cannot read its external data {shorten(repr(location))}: "
                                 f"{getattr(error, 'strerror', None) or first_line(error)}") from None
        if stat.S_ISLNK(status.st_mode) or not inside:
            raise CostModelError(f"{where}: its external data {shorten(repr(location))} is a symbolic link or "
                                 "outside the model's folder")
        if not stat.S_ISREG(status.st_mode):
            raise CostModelError(f"{where}: its external data {shorten(repr(location))} is not a regular file")
        if status.st_nlink > 1:
            raise CostModelError(f"{where}: its external data {shorten(repr(location))} has {status.st_nlink} "
                                 "hard links (refused, as the onnx package does)")
        self._files[location] = (path, status.st_size)
        return self._files[location]

    def array(self, tensor: Any, where: str, limit: int = MAX_CONSTANT_ELEMENTS) -> Any:
        """The value of ``tensor`` (checked by ``check``) as a NumPy array: of a number or bool type, at most
        ``limit`` elements, read from its external file if it has one."""
        from onnx import numpy_helper

        if tensor.data_type not in READABLE:
            raise CostModelError(f"{where} is read as a constant, but costmodel evaluates constants of number and "
                                 "bool types only")
        count = self.check(tensor, where)
        if count > limit:
            raise CostModelError(f"{where} is read as a constant of {count:,} elements, more than the limit of "
                                 f"{limit:,}")
        if tensor.data_location == 1:
            tensor = self._loaded(tensor, where)
        try:
            return numpy_helper.to_array(tensor)
        except Exception as error:        # data checked above; what NumPy may still refuse
            raise CostModelError(f"{where} cannot be read: {first_line(error)}") from None

    def _loaded(self, tensor: Any, where: str) -> Any:
        """A copy of ``tensor`` with its external data read into ``raw_data`` (the bytes ``check`` accepted)."""
        from onnx import TensorProto

        entries = _entries(tensor, where)
        path, size = self._file(entries["location"], where)
        offset = self._number(entries, "offset", 0, where)
        length = _expected(tensor.data_type, elements(tensor, where), "raw_data")
        try:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(descriptor, "rb") as stream:
                stream.seek(offset)
                raw = stream.read(length)
        except OSError as error:
            raise CostModelError(f"{where}: cannot read its external data: {error.strerror}") from None
        if len(raw) != length:
            raise CostModelError(f"{where}: its external data ends after {len(raw):,} of {length:,} bytes")
        loaded = TensorProto()
        loaded.data_type = tensor.data_type
        loaded.dims.extend(tensor.dims)
        loaded.raw_data = raw
        return loaded


def type_name(kind: int) -> str:
    """The name of TensorProto data type ``kind`` (``FLOAT``), or its number."""
    from onnx import TensorProto

    try:
        return TensorProto.DataType.Name(kind)
    except ValueError:
        return str(kind)


def _expected(kind: int, count: int, field: str) -> "int | None":
    """How many bytes (``raw_data``) or values (a typed field) hold ``count`` elements of type ``kind``; None
    where ``field`` cannot hold that type."""
    if kind == STRING:
        return count if field == "string_data" else None
    bits = ELEMENT_BITS[kind]
    if field == "raw_data":
        return -(-count * bits // 8)
    if field != _FIELDS.get(kind, "int32_data"):
        return None
    if kind in (14, 15):
        return 2 * count                                # complex: real and imaginary parts
    per_value = {4: 2, 2: 4}.get(bits, 1)               # int32_data packs 4-bit and 2-bit types
    return -(-count // per_value)
