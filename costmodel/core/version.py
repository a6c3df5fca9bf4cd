"""The package's version, in one place (the package's front door and every page read it)."""
__version__ = "0.1.0"
