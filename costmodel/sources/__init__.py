"""The sources layer: what a MODEL argument names and how it becomes a network at a setting.

    model_source.py   what a MODEL argument names, decided once (``model_source``, ``ModelSource``)
    setting.py        ``Setting``: the model and everything its costs depend on
    settle.py         a setting checked against what its model accepts, its network resolved once (``settle``)
    analyze.py        ``analyze``: a setting settled and counted (the result is ``engine.results.Analysis``)
    zoo/              the networks of the papers;  spec.py: spec files;  builder.py: ``GraphBuilder``, the blocks
    importer/         an ``nn.Module``, a ``.pt2`` program or an ONNX file mapped to the IR

``costmodel.sources`` answers the names of ``model_source.py`` as the module of that name did before the layer
became a package.
"""
from .model_source import (MODEL_KINDS, MODULE, NETWORK, ONNX, PROGRAM, SPEC, ZOO, ModelSource, input_files,
                           model_source, split_settings)

__all__ = ["MODEL_KINDS", "MODULE", "NETWORK", "ONNX", "PROGRAM", "SPEC", "ZOO", "ModelSource", "input_files",
           "model_source", "split_settings"]
