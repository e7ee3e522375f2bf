"""The ``confidante`` command line."""


def main() -> None:
    """Run the command line."""
    from confidante.cli.app import app

    app()
