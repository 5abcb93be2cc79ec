"""LGS Reports: parameterized RFM reporting for London Gift Shop."""

__version__ = "0.1.0"
