"""Hand-object node: camera images -> hoi_msgs/HandObjectResult on hoi/handobject (+ TF, markers)."""
from __future__ import annotations

import sys

from hoi_msgs.msg import HandObjectResult

from hoi_perception.ros.common import run_node
from hoi_perception.ros.reconstruction_node import ReconstructionNode


class HandObjectNode(ReconstructionNode):
    task = "handobject"
    result_msg = HandObjectResult

    def __init__(self) -> None:
        super().__init__("handobject_node")


def main(args=None) -> None:
    sys.exit(run_node(HandObjectNode, "handobject_node"))


if __name__ == "__main__":
    main()
