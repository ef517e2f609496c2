"""Launch the hoi_perception graph: full-body and hand-object nodes, motion recorder, imitation bridge.

    ros2 launch hoi_perception pipeline.launch.py fullbody_model:=<model> handobject_model:=<model> \
        image_topic:=/camera/color/image_raw camera_info_topic:=/camera/color/camera_info
    ros2 launch hoi_perception pipeline.launch.py backend:=tensorrt      # GPU: TensorRT FP16 engines
    ros2 launch hoi_perception pipeline.launch.py backend:=torch device:=cuda
    ros2 launch hoi_perception pipeline.launch.py mesh_detail:=full   # full meshes in every result

A node whose model is not set (here or in config/pipeline.yaml) refuses to start.
The tables below are plain literals so tests can check them without the launch packages.
"""
from __future__ import annotations

import os

PACKAGE = "hoi_perception"
CONFIG_FILE = "pipeline.yaml"  # in share/hoi_perception/config
# executable (= node name) -> (enable argument, model argument or None)
NODES = {
    "fullbody_node": ("use_fullbody", "fullbody_model"),
    "handobject_node": ("use_handobject", "handobject_model"),
    "motion_recorder_node": ("use_recorder", None),
    "imitation_bridge_node": ("use_imitation_bridge", None),
}
# remapped input topics of the reconstruction nodes -> launch argument
REMAPS = {"image_raw": "image_topic", "camera_info": "camera_info_topic",
          "depth/image_raw": "depth_topic", "masks": "masks_topic"}
ARGUMENTS = {
    "fullbody_model": ("", "trained full-body model (name under models/ or folder); empty: use the config"),
    "handobject_model": ("", "trained hand-object model; empty: use the config"),
    "backend": ("", "inference backend of both models: onnxruntime, torch, tensorrt; empty: use the config"),
    "device": ("", "cpu or cuda for both models; empty: use the config"),
    "mesh_detail": ("", "compact or full (the full meshes in every result) for both models; empty: use the config"),
    "image_topic": ("/camera/color/image_raw", "sensor_msgs/Image input"),
    "camera_info_topic": ("/camera/color/camera_info", "sensor_msgs/CameraInfo input"),
    "depth_topic": ("/camera/aligned_depth_to_color/image_raw", "optional depth input (use_depth parameter)"),
    "masks_topic": ("/segmentation/masks", "optional instance-mask label image (use_masks parameter)"),
    "use_fullbody": ("true", "start the full-body node"),
    "use_handobject": ("true", "start the hand-object node"),
    "use_recorder": ("true", "start the motion recorder"),
    "use_imitation_bridge": ("true", "start the imitation bridge"),
    "config": ("", "parameter file (default: share/hoi_perception/config/pipeline.yaml)"),
}


def _nodes(context, *args, **kwargs):
    from ament_index_python.packages import get_package_share_directory
    from launch_ros.actions import Node

    conf = context.launch_configurations
    config = conf.get("config") or os.path.join(get_package_share_directory(PACKAGE), "config", CONFIG_FILE)
    actions = []
    for executable, (enable_arg, model_arg) in NODES.items():
        if conf.get(enable_arg, "true").lower() not in ("true", "1", "yes"):
            continue
        params = [config]
        if model_arg:  # only override the config where an argument was given
            given = {"model": conf.get(model_arg), **{k: conf.get(k) for k in ("backend", "device", "mesh_detail")}}
            if overrides := {k: v for k, v in given.items() if v}:
                params.append(overrides)
        remaps = [(src, conf[arg]) for src, arg in REMAPS.items()] if model_arg else []
        actions.append(Node(package=PACKAGE, executable=executable, name=executable, output="screen",
                            parameters=params, remappings=remaps))
    return actions


def generate_launch_description():
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction

    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=desc)
         for name, (default, desc) in ARGUMENTS.items()]
        + [OpaqueFunction(function=_nodes)])
