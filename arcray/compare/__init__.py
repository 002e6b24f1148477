"""`arcray compare RUN…`: two or more runs of one stage side by side.

- :mod:`~arcray.compare.runs` reads a run folder (its manifest, or for a run made before
  manifests its config.json and summary.json) and finds an experiment's stage folders;
- :mod:`~arcray.compare.diff` compares them: config fields that differ, provenance, headline
  metrics with their 95% intervals, paired differences on shared tasks or prompts;
- :mod:`~arcray.compare.render` prints it (rich tables; plain text in a pipe) and plots it.
"""

from arcray.compare.diff import compare_runs
from arcray.compare.render import print_text, write_plot

__all__ = ["compare_runs", "print_text", "write_plot"]
