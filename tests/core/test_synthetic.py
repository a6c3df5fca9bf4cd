"""The synthetic networks a latency predictor is fitted on (``latency.synthetic``): drawn with a fixed seed, built
from every block type of the zoo's builders, none of them a zoo network, and each one a network costmodel analyzes."""
import costmodel
from costmodel.latency.synthetic import BLOCKS, RESOLUTIONS, networks
from costmodel.sources.zoo import MODELS


def test_the_same_seed_draws_the_same_networks_and_another_seed_others():
    first = [network.name for network in networks(12, 0)]
    assert first == [network.name for network in networks(12, 0)]
    assert first != [network.name for network in networks(12, 1)]
    assert len(set(first)) == 12 and not set(first) & set(MODELS)


def test_every_block_type_is_drawn_and_every_network_is_a_classifier_costmodel_counts():
    drawn = set()
    for index, network in enumerate(networks(40, 0)):
        prefix, kinds = network.name.split("_", 1)
        assert prefix == f"synthetic{index}"
        stages = kinds.split("-")
        assert 2 <= len(stages) <= 5 and set(stages) <= set(BLOCKS)
        drawn.update(stages)
        assert network.base_resolution[0] in RESOLUTIONS
        result = costmodel.analyze(network)
        stem = result.layers[0]
        # the stem: a 3x3 convolution of stride 2 on the RGB input, to 16-64 channels at half the resolution
        assert stem.name == "stem.conv" and stem.kind == "conv"
        channels, height, _ = stem.output_shape.sample
        assert channels in (16, 24, 32, 48, 64) and height == network.base_resolution[0] // 2
        # the head: a linear layer to 1,000 classes
        assert result.layers[-1].name == "fc" and result.layers[-1].output_shape.sample == (1000,)
        assert result.totals["madds"] > 0 and not result.not_counted()
    assert drawn == set(BLOCKS)
