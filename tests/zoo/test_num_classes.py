"""Every zoo network and every spec file takes ``num_classes``: the classifier is the only thing that changes."""
import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.sources.zoo import MODELS

from helpers import run

V1_MADDS, V1_PARAMS = 568_740_352, 4_231_976         # MobileNetV1 1.0-224 with 1000 classes (tests/zoo)


def test_mobilenet_v1_with_100_classes_by_hand():
    result = costmodel.analyze("mobilenet_v1", options={"num_classes": 100})
    # the FC layer 1024 x 1000 (+ 1000 biases) becomes 1024 x 100 (+ 100)
    assert result.totals["params"] == V1_PARAMS - (1024 * 1000 + 1000) + (1024 * 100 + 100)
    assert result.totals["madds"] == V1_MADDS - 1024 * 1000 + 1024 * 100
    assert result.layers[-1].name == "Logits" and result.layers[-1].output_shape.sample == (100,)


@pytest.mark.parametrize("model", [name for name, entry in MODELS.items() if entry.classifier])
def test_only_the_classifier_changes(model):
    entry = MODELS[model]
    options = {"aux_logits": True} if model == "inception_v3" else {}
    alpha = entry.alpha_choices[0] if entry.alpha_choices else 1.0
    thousand = costmodel.analyze(model, alpha=alpha, options=options)
    ten = costmodel.analyze(model, alpha=alpha, options={**options, "num_classes": 10})
    assert [layer.name for layer in ten.layers] == [layer.name for layer in thousand.layers]
    changed = {a.name: (a, b) for a, b in zip(thousand.layers, ten.layers) if a != b}
    heads = {"inception_v3": {"AuxLogits.fc", "fc"},
             # SqueezeNet's classifier is a 1x1 convolution; its ReLU, pool and flatten carry the classes on
             "squeezenet1_0": {"classifier.1", "classifier.2", "classifier.3", "flatten"},
             "squeezenet1_1": {"classifier.1", "classifier.2", "classifier.3", "flatten"},
             # two distillation heads, averaged
             "efficientformer_l1": {"head", "head_dist", "average.add", "average.div"}}
    assert set(changed) == heads.get(model, {thousand.layers[-1].name})
    weighted = [pair for pair in changed.values() if pair[0].kind in ("linear", "pointwise")]
    assert weighted and all(before.output_shape.channels == 1000 and after.output_shape.channels == 10
                            and before.input_shapes == after.input_shapes for before, after in weighted)


def test_a_model_without_a_classifier_refuses_num_classes(capsys):
    with pytest.raises(CostModelError, match="has no classifier"):
        costmodel.analyze("blazeface_backbone", options={"num_classes": 10})
    for bad, message in (("0", "at least 1"), ("x", "must be a int"), ("2000000", "at most 1,000,000")):
        status, _, err = run(["table", "mobilenet_v2", "-O", f"num_classes={bad}"], capsys)
        assert status == 2 and message in err


def test_spec_files_take_num_classes(tmp_path, capsys):
    # the example's last layer is its classifier (a linear layer to 1000 on its 1024-wide head): 1024 x 1000 + 1000
    # becomes 1024 x 100 + 100
    thousand = costmodel.analyze("examples/mobilenet_v2_like.toml")
    hundred = costmodel.analyze("examples/mobilenet_v2_like.toml", options={"num_classes": 100})
    assert thousand.totals["params"] - hundred.totals["params"] == 1024 * 900 + 900
    status, out, _ = run(["table", "examples/mobilenet_v2_like.toml", "-O", "num_classes=100", "--format", "csv"],
                         capsys)
    assert status == 0 and f",{hundred.totals['params']}," in out
    spec = tmp_path / "marked.toml"
    spec.write_text('name = "marked"\nnum_classes = 10\n'
                    '[[layer]]\nop = "global_avg_pool"\n[[layer]]\nop = "flatten"\n'
                    '[[layer]]\nname = "head"\nop = "linear"\nout = "num_classes"\n'
                    '[[layer]]\nop = "activation"\nfunction = "sigmoid"\n')
    assert costmodel.analyze(str(spec)).layers[2].output_shape.sample == (10,)
    assert costmodel.analyze(str(spec), options={"num_classes": 7}).layers[2].params == 3 * 7 + 7
    status, _, err = run(["table", str(spec), "-O", "groups=2"], capsys)
    assert status == 2 and "spec files take only the option 'num_classes'" in err
    bare = tmp_path / "bare.toml"
    bare.write_text('name = "bare"\n[[layer]]\nop = "conv2d"\nout = 8\n')
    status, _, err = run(["table", str(bare), "-O", "num_classes=5"], capsys)
    assert status == 2 and "marks no classifier" in err and err.count("\n") == 1
