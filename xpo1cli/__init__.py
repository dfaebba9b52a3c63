"""xpo1cli: an offline evidence summarizer for XPO1 inhibitors in haematological malignancies."""

__version__ = "0.1.0"
