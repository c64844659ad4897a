"""`python -m bacalao ...`: the CLI."""

from .cli.main import main

main()
