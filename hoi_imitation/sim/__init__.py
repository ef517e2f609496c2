from .base import ResetState, Simulator, SimState, make_simulator

__all__ = ["ResetState", "Simulator", "SimState", "make_simulator"]
