"""`python -m server` is the `cdv` command."""

from .cli import main

main()
