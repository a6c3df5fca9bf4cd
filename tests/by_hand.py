"""Counts derived by hand from the papers' formulas, shared by several test modules."""


def shufflenet_v1_by_hand(stem, stages, mids, g):
    """(mult-adds, params) of ShuffleNet with a ``stem`` wide 3x3 conv and ``stages`` = (c2, c3, c4) output widths
    (4, 8, 4 units; the first of each at stride 2), bottlenecks ``mids``: a unit costs
    c_in m / g1 (1x1 at the input size) + 9 m + m c_b / g (at the output size), c_b = c - c_in at stride 2."""
    madds, params = 27 * stem * 112 * 112, 27 * stem + 2 * stem
    c_in = stem
    for c, repeat, size, m in zip(stages, (4, 8, 4), (28, 14, 7), mids):
        for unit in range(repeat):
            g1 = 1 if (c == stages[0] and unit == 0) else g
            out = c - c_in if unit == 0 else c
            in_size = 2 * size if unit == 0 else size
            madds += c_in * m // g1 * in_size ** 2 + 9 * m * size ** 2 + m * out // g * size ** 2
            params += c_in * m // g1 + 2 * m + 9 * m + 2 * m + m * out // g + 2 * out
            c_in = c
    return madds + stages[2] * 1000, params + stages[2] * 1000      # FC 1000 without bias
