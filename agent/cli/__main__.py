"""Run the command line with ``python -m confidante.cli``."""

from confidante.cli import main

main()
