"""gcnn-viewer: see and teach group-equivariant CNNs (Cohen & Welling, ICML 2016)."""

__version__ = "0.1.0"
