"""Stage 4: drive terraform across the rendered stacks (docs/running.md).

The commands that also report (`plan`, `apply`, `destroy`) live in tfgen.commands_run, above
tfgen.report in the import layers; this package never imports the report. Import the modules
(`tfgen.run.scheduler`, `tfgen.run.lock`, ...) directly: this file stays empty so that `render`,
which only needs the directory lock, does not load the scheduler.
"""
