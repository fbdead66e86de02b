"""Syndicate: validated article records in, RSS / Atom / JSON Feed and NewsML-G2 out."""

__version__ = "0.1.0"
