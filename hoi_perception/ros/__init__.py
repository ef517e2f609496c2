"""rclpy nodes: the only package of hoi_perception that imports rclpy."""
