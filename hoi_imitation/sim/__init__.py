from .base import ResetState, Simulator, SimState
from .factory import make_simulator

__all__ = ["ResetState", "Simulator", "SimState", "make_simulator"]
