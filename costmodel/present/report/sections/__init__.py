"""The sections of the report, one module each: ``summary``, ``layers``, ``kinds``, ``scaling``, ``memory``,
``latency``, ``review``, ``advice`` and ``crosscheck``. Each takes the analysis (and what else it needs: a device, a
profile) and returns its part of the page as plain values; ``report/page.py`` puts them together."""
