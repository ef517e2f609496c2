"""hoi_perception: an ament_python ROS 2 package that is also a plain pip package.

`colcon build --base-paths . hoi_msgs` builds it for ROS users; `pip install -e .` installs the
same code (CLI `hoi-perception`, `hoi-imitate`) for anyone without ROS.
"""
import os
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "hoi_perception"

# Node executables live in lib/hoi_perception (setup.cfg) so `ros2 run`/launch find them.
NODES = [
    "fullbody_node = hoi_perception.ros.fullbody_node:main",
    "handobject_node = hoi_perception.ros.handobject_node:main",
    "motion_recorder_node = hoi_perception.ros.motion_recorder_node:main",
    "imitation_bridge_node = hoi_perception.ros.imitation_bridge_node:main",
]
CLIS = [
    "hoi-perception = hoi_perception.cli:main",
    "hoi-imitate = hoi_imitation.cli:main",
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=["hoi_perception", "hoi_perception.*", "hoi_imitation", "hoi_imitation.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
        # The runner builds its rosbags typestore from these, also in a non-editable pip install.
        (f"share/{PACKAGE}/hoi_msgs/msg", glob("hoi_msgs/msg/*.msg")),
        # Each models/<name>/ folder keeps its layout under share/ (model cards next to weights).
        *[(f"share/{PACKAGE}/{d.rstrip('/')}", [f for f in glob(d + "*") if os.path.isfile(f)])
          for d in glob("models/**/", recursive=True)],
    ],
    include_package_data=True,
    # annotate/web: the page itself; its three.js comes from `npm ci` there (scripts/setup.sh), not from here.
    package_data={"hoi_perception": ["data/*", "fullbody/data/*", "fitting/data/*", "annotate/web/*.html",
                                     "annotate/web/*.js", "annotate/web/package*.json"]},
    python_requires=">=3.10",
    install_requires=[
        "numpy",
        "scipy",
        "torch",
        "anny==0.6.2",
        "trimesh",
        "rtree",
        "pyrender",
        "opencv-python-headless",
        "safetensors",
        "onnxruntime",
        "rosbags>=0.11",
        "mcap",
        "tqdm",
        "pyyaml",
        "pillow",
    ],
    extras_require={
        "ros": ["ros-jazzy-rclpy[fastrtps]", "ros-jazzy-sensor-msgs", "ros-jazzy-geometry-msgs",
                "ros-jazzy-std-msgs", "ros-jazzy-visualization-msgs", "ros-jazzy-shape-msgs",
                "ros-jazzy-diagnostic-msgs"],
        "export": ["onnx", "onnxscript"],
        "imitation": ["mujoco==4.0.0", "gymnasium==1.4.0", "stable-baselines3==2.9.2"],
        "tensorrt": ["tensorrt"],
        "isaac": [],  # Isaac Lab lives in its own environment: see docs/isaaclab.md
        "smplx": ["smplx==0.1.28"],
        "test": ["pytest"],
    },
    zip_safe=False,
    maintainer="hoi_perception maintainers",
    description="Live 3D human-object interaction reconstruction for robots (ROS 2 and standalone).",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": NODES + CLIS},
)
