"""The AI Civilization: Analyst → Programmer → Refiner in an evolutionary loop, with no Ray inside.

Any backend of the generation interface can be the teacher (Gemini) or the student (a local
model); the loop takes a task, a backend and a sandbox and returns every generation it ran.
"""

from arcray.civilization.config import EvolutionConfig
from arcray.civilization.evolution import Candidate, EvolutionResult, run_evolution

__all__ = ["Candidate", "EvolutionConfig", "EvolutionResult", "run_evolution"]
