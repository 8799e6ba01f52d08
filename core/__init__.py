"""Svidok core: what every stage shares.

The workspace (SQLite archive + content-addressed media store), settings, the audit log,
the pipeline runs and the command line. Stages (collectors/, analyzers/, matching/,
review_ui/) depend on this package; this package never imports a stage at module import
time (the CLI imports them lazily, per command).
"""

from core import offline  # noqa: F401 - first: switch off library telemetry before anything loads

__version__ = "0.1.0"
