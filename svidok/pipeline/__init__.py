"""The runs of the flow, each one short function with numbered steps.

    collect → hash and store → analyze → match → queue for review

Stages talk only through the workspace, so any run can be repeated or resumed. No run holds
the database's write lock while it waits on the network or computes: collectors run in their
own thread (`feed.py`) and analyzers compute before their rows are written, each file or batch
in one short transaction (`Workspace.transaction`).

- `collect.py`: `run_collector` (one collector into the archive) and `collect_sources` (the
  runner behind `svidok collect --all` and every `svidok collect KIND`);
- `analyze.py`: `run_analysis` and `analyze_one`.
"""

from svidok.pipeline.analyze import AnalysisFailed, AnalysisReport, analyze_one, pending_media, run_analysis
from svidok.pipeline.collect import (
    BATCH_ITEMS,
    CollectReport,
    SourceRun,
    collect_sources,
    merged_report,
    run_collector,
)

__all__ = ["AnalysisFailed", "AnalysisReport", "analyze_one", "pending_media", "run_analysis", "BATCH_ITEMS",
           "CollectReport", "SourceRun", "collect_sources", "merged_report", "run_collector"]
