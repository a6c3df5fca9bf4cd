"""The core layer (see tests/test_architecture.py)."""
