"""The ``crmbridge`` command: thin wrappers that parse, call a service and print.

Each part of the product owns its sub-commands in its own module and registers them
here with one line.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="crmbridge",
    help="Two-way sync between your platform and Salesforce.",
    no_args_is_help=True,
    add_completion=False,
)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
