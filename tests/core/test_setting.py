"""One setting (``setting.Setting``): what every entry point takes, checked and resolved once."""
import pytest

import costmodel.sources.analyze
import costmodel.sources.settle
from costmodel.sources.analyze import analyze
from costmodel.core.errors import CostModelError
from costmodel.present.report.page import report_context
from costmodel.sources.setting import Setting, setting_of


def test_a_setting_and_its_loose_fields_count_the_same():
    loose = analyze("mobilenet_v1", alpha=0.5, resolution=160)
    whole = analyze(Setting("mobilenet_v1", alpha=0.5, resolution=160))
    assert loose.totals == whole.totals
    assert whole.alpha == 0.5 and whole.input_shape.dims[2:] == (160, 160)
    assert whole.totals != analyze(Setting("mobilenet_v1")).totals


def test_fields_given_as_none_are_not_given_and_others_override():
    base = Setting("mobilenet_v2", alpha=0.75, batch=2)
    assert setting_of(base) is base
    assert setting_of(base, alpha=None, batch=None) is base
    assert setting_of(base, batch=4) == Setting("mobilenet_v2", alpha=0.75, batch=4)
    assert setting_of("mobilenet_v2", rho=None) == Setting("mobilenet_v2")


def test_an_unknown_field_is_named():
    with pytest.raises(CostModelError, match="unknown setting 'width'"):
        setting_of("mobilenet_v1", width=0.5)


def test_options_are_copied_so_the_callers_dict_is_left_alone():
    options = {"num_classes": 10}
    setting = Setting("mobilenet_v1", options=options)
    options["num_classes"] = 20
    assert setting.options == {"num_classes": 10}


def test_a_report_settles_its_model_once(monkeypatch):
    """The model argument is resolved once; the sections read the resolved network (settling a ``Network`` looks
    nothing up)."""
    calls = []
    settle = costmodel.sources.settle.settle

    def counting(*args, **kwargs):
        calls.append(args)
        return settle(*args, **kwargs)

    monkeypatch.setattr(costmodel.sources.settle, "settle", counting)
    monkeypatch.setattr(costmodel.sources.analyze, "settle", counting, raising=False)
    report_context(Setting("mobilenet_v1", alpha=0.75), cross_check=False)
    assert [call[0].model for call in calls if isinstance(call[0].model, str)] == ["mobilenet_v1"]
