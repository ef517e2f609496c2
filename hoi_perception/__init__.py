"""hoi_perception: 3D human-object interaction from camera streams, with or without ROS 2.

The core (everything outside `hoi_perception.ros`) never imports rclpy.
"""
__version__ = "0.1.0"
