"""`python -m agent.cli`: the command line, as the daemon and the tests start it."""

from agent.cli.main import main

main()
