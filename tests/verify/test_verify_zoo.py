"""Every zoo network, lowered to torch and counted by fvcore, agrees exactly with costmodel per layer and in total,
at two widths (where it has a width multiplier) and two resolutions (where it takes one); FlopCounterMode too."""
import pytest

pytestmark = pytest.mark.slow           # a reference comparison or a measurement: python -m pytest -m slow

pytest.importorskip("torch")
pytest.importorskip("fvcore")


from costmodel.sources.zoo import MODELS

from reference_tools import check, lowered


def _narrow(entry):
    if entry.alpha_choices:
        return entry.alpha_choices[0]
    return 0.35 if entry.name in ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small") else 0.5


def _settings():
    for entry in MODELS.values():
        alphas = (_narrow(entry), 1.0) if entry.accepts_alpha else (1.0,)
        resolutions = (None, 160) if entry.accepts_resolution else (None,)
        for alpha in alphas:
            for resolution in resolutions:
                yield pytest.param(entry.name, alpha, resolution, id=f"{entry.name}-{alpha:g}-{resolution or 'base'}")


VARIANTS = [
    ("alexnet", 1.0, (("variant", "original"),)),
    ("googlenet", 1.0, (("variant", "torchvision"),)),
    ("inception_v3", 1.0, (("aux_logits", True),)),
    ("resnet50", 1.0, (("variant", "v1"),)),
    ("resnext50_32x4d", 1.0, (("variant", "v1"),)),
    ("mobilenet_v3_large", 0.75, (("reference", "tfslim"),)),
    ("mobilenet_v3_small", 1.0, (("last_channel", 1280),)),
    ("shufflenet_v1", 0.5, (("groups", 8),)),
    ("shufflenet_v1", 1.5, (("groups", 2),)),
    ("shufflenet_v1", 0.25, (("groups", 4),)),
    ("shufflenet_v1", 1.0, (("groups", 1),)),
    ("mobilenext", 0.75, (("blocks_960", 2),)),
    ("blazeface_backbone", 1.0, (("output", "16x16"),)),
    ("vit_tiny", 1.0, (("attention", "explicit"),)),
]


def _assert_agrees(verification):
    differing = [(layer.name, layer.flops, layer.reference_flops, layer.params, layer.reference_params)
                 for layer in verification.layers if not layer.agrees]
    assert not differing, differing[:5]
    assert verification.total_flops == verification.reference_total_flops
    assert verification.total_params == verification.reference_total_params
    assert verification.agrees


@pytest.mark.parametrize("model, alpha, resolution", list(_settings()))
def test_agrees_with_fvcore(model, alpha, resolution):
    verification = check(model, alpha, resolution)
    _assert_agrees(verification)
    assert verification.reference_total_flops > 0


@pytest.mark.parametrize("model, alpha, options", VARIANTS, ids=lambda v: str(v))
def test_variants_agree_with_fvcore(model, alpha, options):
    _assert_agrees(check(model, alpha, options=options))


@pytest.mark.parametrize("model, depth", [("efficientnet_b0", 1.4), ("mobilevit_xxs", 0.5), ("vit_tiny", 0.25),
                                          ("efficientformer_l1", 1.5), ("mnasnet_a1", 1.3), ("shufflenet_v2", 0.5)])
def test_depth_variants_agree(model, depth):
    _assert_agrees(check(model, depth=depth))
    _assert_agrees(check(model, depth=depth, against="flopcounter"))


@pytest.mark.parametrize("model", list(MODELS))
def test_agrees_with_flop_counter_mode(model):
    _assert_agrees(check(model, against="flopcounter"))


@pytest.mark.parametrize("model", list(MODELS))
def test_params_equal_torch_numel(model):
    import costmodel
    module = lowered(model)
    assert sum(p.numel() for p in module.parameters()) == costmodel.analyze(model).totals["params"]
