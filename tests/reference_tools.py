"""Shared torch/fvcore helpers for the tests: lowered modules are built once per setting and reused."""
from __future__ import annotations

from functools import lru_cache

import costmodel
from costmodel.lowering.to_torch import to_torch
from costmodel.lowering.verify import compare


@lru_cache(maxsize=None)
def lowered(model: str, alpha: float = 1.0, resolution: int | None = None, options: tuple = (), depth: float = 1.0):
    return to_torch(model, alpha=alpha, resolution=resolution, options=dict(options), depth=depth)


def check(model: str, alpha: float = 1.0, resolution: int | None = None, options: tuple = (),
          against: str = "fvcore", depth: float = 1.0):
    convention = "fvcore" if against == "fvcore" else "flop_counter"
    result = costmodel.analyze(model, alpha=alpha, resolution=resolution, options=dict(options),
                               convention=convention, depth=depth)
    return compare(result, lowered(model, alpha, resolution, options, depth), against)


def compare_network(network, alpha: float = 1.0, against: str = "fvcore"):
    """Verify an IR network built in a test."""
    convention = "fvcore" if against == "fvcore" else "flop_counter"
    return compare(costmodel.analyze(network, alpha=alpha, convention=convention),
                   to_torch(network, alpha=alpha), against)
