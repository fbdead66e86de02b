"""`python -m syndicate` runs the same command line as the `syndicate` script."""

from syndicate.cli import main

main()
