"""Sinergi: the inter-agency exchange for TPPO/TPPM reports."""

__version__ = "0.1.0"
