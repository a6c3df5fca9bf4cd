"""Quantities with units (``units``): read exactly, and refused in one line naming the parameter."""
import pytest

from costmodel.core.errors import CostModelError
from costmodel.core.units import BYTES, COUNT, TIME, parse_bytes, parse_count, parse_milliseconds, parse_quantity


@pytest.mark.parametrize("text, kind, value", [
    ("150M", COUNT, 150_000_000), ("2.5k", COUNT, 2_500), ("1G", COUNT, 10**9), ("300", COUNT, 300),
    ("1e6", COUNT, 10**6), ("2MB", BYTES, 2_000_000), ("512kB", BYTES, 512_000), ("1MiB", BYTES, 2**20),
    ("20ms", TIME, 20.0), ("0.5s", TIME, 500.0), ("250us", TIME, 0.25), ("1.5", COUNT, 1),
    ("0.1G", COUNT, 100_000_000),         # exact: the float 0.1 x 1e9 is 100000000.00000001
])
def test_quantities_with_units(text, kind, value):
    assert parse_quantity(text, kind, "limit") == value


def test_the_short_forms_are_the_same_reading():
    assert parse_count("150M") == 150 * 10**6 and parse_bytes("1GiB") == 2**30 and parse_milliseconds("2s") == 2000.0
    assert parse_count(2_000_000) == 2_000_000 and parse_milliseconds(12.5) == 12.5


@pytest.mark.parametrize("text, kind", [("150X", COUNT), ("abc", COUNT), ("2MB", COUNT), ("-5M", COUNT),
                                        ("0", BYTES), ("20", TIME), ("", COUNT), ("0.1", COUNT)])
def test_a_quantity_that_cannot_be_read_is_one_line_naming_the_parameter(text, kind):
    with pytest.raises(CostModelError) as raised:
        parse_quantity(text, kind, "max_madds")
    message = str(raised.value)
    assert message.startswith("max_madds ") and "--" not in message and "\n" not in message
