"""Runner without ROS: drives the pipeline stages over a source and records a rosbag2 (MCAP)."""
