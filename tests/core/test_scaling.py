"""Width and resolution rounding, checked against hand computations of the reference code's rules."""
import pytest

from costmodel.core.errors import CostModelError
from costmodel.core.scaling import (Expanded, Scaled, Squeezed, input_size, make_divisible, resolve_width,
                               scaled_resolution)


@pytest.mark.parametrize("value, expected", [
    (32 * 1.0, 32),
    (32 * 0.35, 16),    # int(11.2 + 4) // 8 * 8 = 8 < 0.9 * 11.2, so one more 8
    (24 * 0.75, 24),    # int(18 + 4) // 8 * 8 = 16 < 0.9 * 18 = 16.2, so 24
    (16 * 0.5, 8),
    (1280 * 1.4, 1792),
    (3.0, 8),           # never below the divisor
    (100.0, 104),       # int(104) // 8 * 8 = 104
])
def test_make_divisible(value, expected):
    assert make_divisible(value) == expected


def test_mobilenet_v1_rule_truncates_with_floor_of_8():
    rule = lambda c, a: resolve_width(Scaled(c, "mobilenet_v1"), a, 0)  # noqa: E731
    assert rule(32, 0.75) == 24
    assert rule(1024, 0.75) == 768
    assert rule(32, 0.35) == 11          # int(11.2)
    assert rule(32, 0.25) == 8
    assert rule(16, 0.25) == 8           # int(4) raised to the floor of 8
    assert rule(100, 0.999) == 99        # truncation, not rounding


def test_head_rule_never_thins():
    head = Scaled(1280, "make_divisible_head")
    assert resolve_width(head, 0.5, 0) == 1280
    assert resolve_width(head, 1.4, 0) == 1792


def test_fixed_width_ignores_alpha():
    assert resolve_width(Scaled(1000), 0.25, 0) == 1000


def test_expanded_and_squeezed_follow_the_input_width():
    assert resolve_width(Expanded(6), 1.0, 24) == 144
    assert resolve_width(Expanded(4.5), 1.0, 11) == 50   # int(round(49.5)) under Python's round-half-even
    assert resolve_width(Squeezed(), 1.0, 72) == 24      # make_divisible(18) = 24 (16 < 0.9 * 18)
    assert resolve_width(Squeezed(), 1.0, 960) == 240


def test_resolution_multiplier_rounds_to_nearest():
    assert scaled_resolution(224, 0.714) == 160       # 159.936
    assert scaled_resolution(224, 0.857) == 192       # 191.968
    assert scaled_resolution(224, 0.571) == 128       # 127.904
    assert scaled_resolution(14, 0.714) == 10         # 9.996
    assert scaled_resolution(5, 0.5) == 3             # halves go up


def test_input_size_choices_and_errors():
    assert input_size((224, 224)) == (224, 224)
    assert input_size((224, 224), rho=0.5) == (112, 112)
    assert input_size((224, 224), resolution=160) == (160, 160)
    assert input_size((224, 224), resolution=(128, 96)) == (128, 96)
    with pytest.raises(CostModelError, match="not both"):
        input_size((224, 224), rho=0.5, resolution=160)
    for bad in (0, -1, float("nan"), float("inf"), 11.0, "x"):
        with pytest.raises(CostModelError, match="rho"):
            input_size((224, 224), rho=bad)
    for bad in (0, 1.5, 10**6, True):
        with pytest.raises(CostModelError, match="resolution"):
            input_size((224, 224), resolution=bad)
    with pytest.raises(CostModelError, match="shrinks"):
        input_size((224, 224), rho=0.001)


def test_width_records_validate():
    with pytest.raises(CostModelError):
        Scaled(0)
    with pytest.raises(CostModelError, match="unknown width rule"):
        Scaled(8, "bogus")
    with pytest.raises(CostModelError):
        Expanded(0)
    with pytest.raises(CostModelError):
        Squeezed(0)


def test_tabulated_width_reads_its_column_and_refuses_others():
    from costmodel.core.scaling import Tabulated
    width = Tabulated(((0.5, 48), (1.0, 116), (1.5, 176), (2.0, 244)))     # ShuffleNetV2 Table 5, stage 2
    assert resolve_width(width, 1.0, 0) == 116 and resolve_width(width, 2.0, 0) == 244
    with pytest.raises(CostModelError, match="alpha must be one of 0.5, 1, 1.5, 2"):
        resolve_width(width, 0.75, 0)
