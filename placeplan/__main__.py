"""``python -m placeplan``: the command line."""

from placeplan.cli import main

main()
