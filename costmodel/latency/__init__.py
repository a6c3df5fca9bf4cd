"""The latency layer: what a network's run takes on a device.

    profiles.py      calibrated latency profiles (``Profile``, ``KernelModel``): a linear model per kernel kind,
                     fitted, read, written and priced (``Profile.priced``: the one place that picks the view)
    devices.py       what ``--device`` names: a roofline preset or file, and a calibrated profile
    calibration.py   the kernels ``costmodel calibrate`` measures
    bench.py         ``bench``: timing with torch in a child process (``bench_worker.py``)
    protocol.py      how anything is timed: interleaved rounds, the minimum, its spread between windows
    ort_graph.py     the graph ONNX Runtime runs, mapped onto costmodel's nodes, against the fused view

``costmodel.latency`` answers the names of ``profiles.py``, as the module of that name did before the layer became
a package.
"""
from .profiles import (CACHE_CANDIDATES, CALL_ONLY, MAX_SAMPLES, MAX_THREADS, MAX_US, MEMORY_BOUND, TERMS, VIEWS,
                       KernelModel, Profile, fit, fit_context, kernel_key, profile_from)

__all__ = ["CACHE_CANDIDATES", "CALL_ONLY", "MAX_SAMPLES", "MAX_THREADS", "MAX_US", "MEMORY_BOUND", "TERMS", "VIEWS",
           "KernelModel", "Profile", "fit", "fit_context", "kernel_key", "profile_from"]
