"""xpo1cli: an offline evidence summarizer for XPO1 inhibitors in haematological malignancies.

The Python API (see docs/api.md): `xpo1cli.open(path=None)` gives a Dataset, `.select(...)` a
Selection whose methods return the tables the `xpo1` commands print. It is loaded on first use,
so importing the package (as the command line does for --help) loads no pandas.
"""

__version__ = "0.1.0"

_API = ("open", "validate", "write_package", "import_ctgov", "Dataset", "Selection", "UnknownName", "InvalidValue",
        "DatasetError", "PoolError", "CrossRegimenPool", "MixedPool", "CannotWrite", "Problem")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'xpo1cli' has no attribute {name!r}")
