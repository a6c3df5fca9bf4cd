"""Issue 28, item 4: fit's limits take a training step's memory, and the largest batch that fits a memory limit at
one setting is found and checked at the batch and one more."""
import json

import pytest

import costmodel
from costmodel.cli import main
from costmodel.core.errors import CostModelError
from costmodel.design.fit import largest_batch, search


def peak(batch, **setting):
    return costmodel.analyze("mobilenet_v2", batch=batch, training=True, **setting).totals["peak_bytes"]


def test_the_largest_batch_fits_and_one_more_does_not():
    found = largest_batch("mobilenet_v2", "24GB", optimizer="adam")
    assert found.limit_bytes == 24 * 10 ** 9
    assert peak(found.batch, optimizer="adam") == found.peak_bytes <= found.limit_bytes
    assert peak(found.batch + 1, optimizer="adam") == found.next_peak_bytes > found.limit_bytes
    # what does not grow with the batch: parameters, their gradients, Adam's two buffers, and the 2 C float32
    # statistics each BatchNorm keeps
    result = costmodel.analyze("mobilenet_v2")
    statistics = sum(2 * layer.output_shape.channels * 4 for layer in result.layers if layer.kind == "batchnorm")
    assert found.fixed_bytes == 4 * 4 * result.totals["params"] + statistics
    assert found.fixed_bytes + found.per_sample_bytes * found.batch == found.peak_bytes


def test_not_even_one():
    with pytest.raises(CostModelError, match="not even a batch of 1 of mobilenet_v2 fits 10,000,000 bytes"):
        largest_batch("mobilenet_v2", "10MB")


def test_a_training_memory_limit_on_the_grid():
    limit = 2 * 10 ** 9
    front = search("mobilenet_v2", {}, alphas=[0.5, 1.0, 1.4], resolutions=[128, 160, 192, 224, 256],
                   batch=16, optimizer="adam", max_train_bytes=limit)
    assert front.rows and "train_peak_bytes" in front.columns()
    for row in front.rows:
        assert row["train_peak_bytes"] == peak(16, alpha=row["alpha"], resolution=row["resolution"],
                                               optimizer="adam") <= limit
        larger = [r for r in (128, 160, 192, 224, 256) if r > row["resolution"]]
        if larger:                # the front is maximal: the next resolution at that width does not fit
            assert peak(16, alpha=row["alpha"], resolution=larger[0], optimizer="adam") > limit
    assert front.to_dict()["limits"] == {"train_peak_bytes": limit, "optimizer": "adam"}


def run(argv, capsys):
    with pytest.raises(SystemExit) as status:
        main(argv)
    captured = capsys.readouterr()
    return status.value.code, captured.out, captured.err


def test_the_command_line(capsys):
    status, out, _ = run(["fit", "mobilenet_v2", "--max-train-memory", "24GB", "--largest-batch", "--optimizer",
                          "adam", "--format", "json"], capsys)
    assert status == 0 and json.loads(out)["batch"] == largest_batch("mobilenet_v2", "24GB", optimizer="adam").batch
    status, out, _ = run(["fit", "mobilenet_v2", "--max-train-memory", "24GB", "--largest-batch"], capsys)
    assert status == 0 and "the largest batch whose training step fits 24.00 GB is" in out
    for argv, message in ((["--largest-batch", "--max-madds", "100M", "--max-train-memory", "1GB"], "alone"),
                          (["--largest-batch", "--max-train-memory", "1GB", "--alpha", "0.5:1:0.25"],
                           "--alpha takes one value"),
                          (["--largest-batch"], "--max-train-memory alone")):
        status, out, err = run(["fit", "mobilenet_v2", *argv], capsys)
        assert status == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
