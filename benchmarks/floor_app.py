"""The floor of `xpo1 --help`: a Typer app with one command and one option, nothing else."""

import typer

app = typer.Typer(rich_markup_mode=None)


@app.command()
def hello(name: str = typer.Option("world", help="whom to greet")) -> None:
    """Greet someone."""
    typer.echo(f"hello {name}")


if __name__ == "__main__":
    app()
