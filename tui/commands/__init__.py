"""Subcommands of the callwatch command line, one module each."""
