"""ndap-infra: a secure N-D-A-P multi-account AWS platform for ML organizations."""

__version__ = "0.1.0"
