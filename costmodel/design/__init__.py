"""The design layer: which settings of a model to choose.

    sweep.py       a grid of settings counted at once (``sweep``, ``Sweep``), and its CSV
    fit.py         ``fit``: the settings of a grid that meet limits, and their front (``Front``)
    published.py   the accuracies the papers publish for zoo settings, beside a front's rows
"""
