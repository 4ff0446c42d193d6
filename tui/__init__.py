"""callwatch: a terminal dashboard for why real-time calls end."""

__version__ = "0.1.0"
