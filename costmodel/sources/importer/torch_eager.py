"""Run a function torch.fx keeps whole on the importer's own values.

``torch.fx.wrap`` makes a Python function one node of the trace, its body unseen: torchvision's Swin calls
``shifted_window_attention`` and ``_patch_merging_pad`` so, because their bodies branch on sizes (``if
window_size >= pad_H``), which fx's proxies cannot do. The importer knows every size as a number, so it can run
such a body itself: each argument the trace computed (a tensor of the input, a parameter, a tensor the weights
make) is handed to the function as a ``Value``, whose operators, methods and torch functions (through
``__torch_function__``) are the importer's own mapping of the same call (``torch_ops.call_function``); sizes come
back as numbers, so the body's Python runs as it would on tensors. Nothing is computed: the calls make nodes. A
constant the body makes (``x.new_zeros((H, W))``, a shifted-window mask) is a real tensor, made from sizes alone.

Where the body does anything the importer refuses, the nodes it made are taken back and the call stays one opaque
node, listed as not counted, as before.
"""
from __future__ import annotations

import inspect
import math
import operator
from typing import Any, Callable

import torch

from .mapping import Derived, GraphMapper, Learned

MAX_DEPTH = 4                # a kept-whole function calling another, at most so deep
_FOREIGN = ("torch", "operator", "builtins", "math", "_operator")
# methods that make a tensor of sizes alone, beside the tensor they are called on (which gives its type only)
_CONSTANTS = {"new_zeros": torch.zeros, "new_ones": torch.ones, "new_empty": torch.zeros}


def kept_whole(target: Any) -> bool:
    """Whether ``target`` is a Python function of the model's own code that the trace kept as one node."""
    package = str(getattr(target, "__module__", "") or "").split(".")[0]
    return inspect.isfunction(target) and package not in _FOREIGN


class Value:
    """An importer value (a tensor of the input, a parameter, a tensor the weights make) as the function run sees
    it: a tensor-like object whose every operation is the importer's mapping of it."""

    __slots__ = ("value", "run")

    def __init__(self, value: Any, run: Callable[..., Any]):
        self.value = value
        self.run = run

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        found = next(item for item in _flat((args, kwargs or {})) if isinstance(item, Value))
        return found.run("call_function", func, args, kwargs or {})

    def _sizes(self) -> "tuple[int, ...] | None":
        return tuple(int(size) for size in self.value.sizes) if isinstance(self.value, (Learned, Derived)) else None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        sizes = self._sizes()
        if attribute == "shape" and sizes is not None:
            return torch.Size(sizes)
        if attribute in ("shape", "ndim", "dtype", "device"):
            return self.run("call_function", getattr, (self, attribute), {})
        if attribute in _CONSTANTS:
            return lambda size, *args, **kwargs: _CONSTANTS[attribute](size, dtype=torch.float32)
        if attribute == "numel" and sizes is not None:
            return lambda: math.prod(sizes)
        if attribute.endswith("_") and sizes is not None:
            return lambda *args, **kwargs: self        # in place on a copy of the weights (Swin V2's zeroed k bias)
        return lambda *args, **kwargs: self.run("call_method", attribute, (self, *args), kwargs)

    def size(self, dim: "int | None" = None) -> Any:
        sizes = self._sizes()
        if sizes is not None:
            return torch.Size(sizes) if dim is None else sizes[dim]
        return self.run("call_method", "size", (self,) if dim is None else (self, dim), {})

    def dim(self) -> int:
        return len(self.shape)

    def __getitem__(self, index: Any) -> Any:
        return self.run("call_function", operator.getitem, (self, index), {})

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("an assignment into a tensor the trace computed")

    def __bool__(self) -> bool:
        raise TypeError("a branch on a tensor's values")

    def __len__(self) -> int:
        return int(self.shape[0])

    def __iter__(self) -> Any:
        return iter(self.run("call_method", "unbind", (self, 0), {}))


def _operator(function: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[..., Any]:
    def method(self: Value, other: Any) -> Any:
        pair = (other, self) if reflected else (self, other)
        return self.run("call_function", function, pair, {})
    return method


for _name, _function in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                         ("truediv", operator.truediv), ("matmul", operator.matmul), ("pow", operator.pow),
                         ("floordiv", operator.floordiv)):
    setattr(Value, f"__{_name}__", _operator(_function))
    setattr(Value, f"__r{_name}__", _operator(_function, reflected=True))
for _name, _function in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("gt", operator.gt)):
    setattr(Value, f"__{_name}__", _operator(_function))
setattr(Value, "__neg__", lambda self: self.run("call_function", operator.neg, (self,), {}))


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in _flat(part)]
    if isinstance(value, dict):
        return [item for part in value.values() for item in _flat(part)]
    return [value]


_running: list[str] = []          # the kept-whole functions being run, outermost first


def running() -> bool:
    """Whether a function kept whole is being run (its sizes are numbers with no record of where they came from)."""
    return bool(_running)


def run_whole(builder: GraphMapper, name: str, target: Callable[..., Any], args: tuple, kwargs: dict,
              call: Callable[..., Any]) -> Any:
    """The importer's values that ``target(*args, **kwargs)`` returns, its body run on ``Value``s: every call it
    makes is ``call(builder, name, kind, function, args, kwargs)`` (the importer's), named after ``name``. None
    (and no node made) where the body does anything the importer refuses, or the functions nest too deep."""
    if len(_running) >= MAX_DEPTH:
        return None

    def unwrap(value: Any) -> Any:
        if isinstance(value, Value):
            return value.value
        if isinstance(value, (tuple, list)):
            return type(value)(unwrap(item) for item in value)
        if isinstance(value, dict):
            return {key: unwrap(item) for key, item in value.items()}
        return value

    def wrap(value: Any) -> Any:
        if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
            return type(value)(wrap(item) for item in value)
        if value is None or isinstance(value, (bool, int, float, str, torch.Tensor, torch.Size, torch.dtype,
                                               torch.device, slice)):
            return value
        return Value(value, run)

    def run(kind: str, function: Any, call_args: tuple, call_kwargs: dict) -> Any:
        label = function if isinstance(function, str) else getattr(function, "__name__", "call")
        return wrap(call(builder, f"{name}.{label.strip('_')}", kind, function, unwrap(call_args),
                         unwrap(call_kwargs)))

    state = builder.state()
    _running.append(name)
    try:
        result = target(*wrap(args), **{key: wrap(value) for key, value in kwargs.items()})
        return unwrap(result)
    except Exception:                                # noqa: BLE001 - the body did what the importer refuses
        builder.restore(state)
        return None
    finally:
        _running.pop()
