"""The engine layer (see tests/test_architecture.py)."""
