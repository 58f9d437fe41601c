"""``python -m feedloom`` works like ``feedloom``."""

from .cli import main

if __name__ == "__main__":
    main()
