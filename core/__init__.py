"""Svidok core: what every stage shares.

The workspace (SQLite archive + content-addressed media store), settings, the audit log,
the pipeline runs and the command line. Stages (collectors/, analyzers/, matching/,
review_ui/) depend on this package; this package never imports a stage at module import
time (the CLI imports them lazily, per command).
"""

__version__ = "0.1.0"
