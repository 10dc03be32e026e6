"""Question answering over Korean reports: cited passages from a hybrid index."""

__version__ = "0.1.0"
