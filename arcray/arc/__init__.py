"""The ARC core: tasks, grids, rendering, the solver sandbox, fitness and submissions.

Nothing here knows about Ray or models; everything is testable on its own.
"""

from arcray.arc.grid import Grid, validate_grid
from arcray.arc.tasks import Example, Task, load_tasks, list_sources

__all__ = ["Example", "Grid", "Task", "list_sources", "load_tasks", "validate_grid"]
