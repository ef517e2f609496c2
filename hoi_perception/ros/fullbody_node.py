"""Full-body HOI node: camera images -> hoi_msgs/HoiFrame on hoi/fullbody (+ TF, markers)."""
from __future__ import annotations

import sys

from hoi_msgs.msg import HoiFrame

from hoi_perception.ros.common import run_node
from hoi_perception.ros.reconstruction_node import ReconstructionNode


class FullBodyNode(ReconstructionNode):
    task = "fullbody"
    result_msg = HoiFrame

    def __init__(self) -> None:
        super().__init__("fullbody_node")


def main(args=None) -> None:
    sys.exit(run_node(FullBodyNode, "fullbody_node"))


if __name__ == "__main__":
    main()
