"""`python -m server` is the `cdv` command."""

from server.cli.main import main

if __name__ == "__main__":  # query children (multiprocessing "spawn") import this module: do not run then
    main()
