"""An offline program-search teacher: verified `solve(grid)` programs found by search over a grid DSL.

    from arcray.search import SearchConfig, SearchTeacher
    result = SearchTeacher(SearchConfig(max_depth=3, max_expansions=10_000)).solve(task)
    if result.found:
        print(result.spec); print(result.solver_code)
"""

from arcray.solver.emit import emit_solver
from arcray.solver.program import Program, Step, describe, run_program
from arcray.search.search import SearchOutcome, search
from arcray.search.teacher import SearchConfig, SearchResult, SearchTeacher

__all__ = [
    "Program",
    "SearchConfig",
    "SearchOutcome",
    "SearchResult",
    "SearchTeacher",
    "Step",
    "describe",
    "emit_solver",
    "run_program",
    "search",
]
