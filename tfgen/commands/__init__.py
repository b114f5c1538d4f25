"""The verbs: one module per command or family of commands, each a thin click command over the
stages (spec, compile, render, run, aws, report) that returns an `ExitCode`.

tfgen.cli loads them on first use and turns every exception into a message and an exit code; no
command prints a traceback or calls sys.exit. Adding a command: docs/architecture.md.
"""
