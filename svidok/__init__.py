"""Svidok: archive footage of captives, find consented missing persons in it, humans decide.

One importable root, three layers (bottom to top; an import never points upwards, and
`lint-imports` keeps it so, see the contract in pyproject.toml):

    foundation   svidok.foundation: workspace, schema, content store, archive, audit log,
                 settings, text normalisation
    stages       svidok.collectors, svidok.analyzers, svidok.matching, svidok.cases
                 (each its own top-level folder of the repository)
    application  svidok.pipeline (the runs), svidok.cli, svidok.demo, svidok.review_ui (web views)
"""

from svidok.foundation import offline  # noqa: F401 - first: switch off library telemetry before anything loads

__version__ = "0.1.0"
