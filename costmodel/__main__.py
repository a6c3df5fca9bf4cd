"""``python -m costmodel``: the same as the ``costmodel`` console script."""
from .cli import main

if __name__ == "__main__":
    main()
