"""Step 4: drive terraform across the rendered stacks (docs/running.md).

The commands that also report (`plan`, `apply`, `destroy`) are tfgen.commands.run, above
tfgen.report in the import layers; this package never imports the report. Import the modules
(`tfgen.run.session`, `tfgen.run.scheduler`, ...) directly: this file stays empty so that a
command needing one part does not load the rest.
"""
