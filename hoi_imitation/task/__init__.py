from .task import ImitationTask, TaskConfig

__all__ = ["ImitationTask", "TaskConfig"]
