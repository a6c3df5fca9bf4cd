"""Small networks for formula tests: one op on one input, analyzed by the real passes."""
from __future__ import annotations

import costmodel
from costmodel.sources.builder import GraphBuilder
from costmodel.core.ir import Op


def single(op: Op, channels: int, size: int | tuple[int, int], alpha: float = 1.0, **kwargs):
    """Analyze a network holding only ``op`` on a ``channels`` x ``size`` x ``size`` input; return its one row."""
    result = one_layer_analysis(op, channels, size, alpha, **kwargs)
    return result.layers[0]


def one_layer_analysis(op: Op, channels: int, size, alpha: float = 1.0, **kwargs):
    builder = GraphBuilder()
    builder.add("layer", op)
    height, width = (size, size) if isinstance(size, int) else size
    network = builder.build("one_layer", input_channels=channels, base_resolution=(height, width))
    return costmodel.analyze(network, alpha=alpha, **kwargs)


def run(argv, capsys):
    """Run the command line in-process: (exit status, stdout, stderr)."""
    import pytest

    from costmodel.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def one_line(status, err, code=2):
    """Check that a command ended with ``code`` and one line on stderr, ``costmodel: error: ...``; return it."""
    assert status == code, err
    assert err.startswith("costmodel: error: ") and err.count("\n") == 1, err
    return err
