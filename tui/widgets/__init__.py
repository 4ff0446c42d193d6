"""Dashboard widgets: one per module, named after it (status_bar.py -> StatusBar)."""
