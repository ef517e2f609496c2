"""Framework-free pipeline API: frame sources, stages, typed results and message conversions.

Nothing in this package imports rclpy; the ROS nodes (`hoi_perception.ros`) and the runner
without ROS (`hoi_perception.runtime`) both drive these objects.
"""
from hoi_perception.pipeline.types import (  # noqa: F401
    BodyState,
    CameraIntrinsics,
    Frame,
    FullBodyResult,
    HandObjectResult,
    InputError,
    Mesh,
    MotionClip,
    ObjectState,
)
