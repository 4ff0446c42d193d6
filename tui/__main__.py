"""`python -m tui` runs the callwatch command line."""

from tui.cli import main

raise SystemExit(main())
