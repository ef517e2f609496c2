"""bench real: the parkour joints map onto the Vicon names and the canonical joints; summaries pair per item."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.benchmarks.real import ANNY_OF, PARKOUR_JOINTS, _summary
from hoi_perception.body.joints import BODY_JOINTS
from hoi_perception.paths import shared_data_dir


def test_parkour_joints_exist_in_the_ground_truth_and_the_body():
    path = shared_data_dir() / "video" / "parkour_dev" / "ground_truth.npz"
    if not path.is_file():
        pytest.skip("no parkour ground truth")
    names = [str(n) for n in np.load(path)["joint_names"]]
    assert set(PARKOUR_JOINTS) <= set(names) and len(PARKOUR_JOINTS) == 12
    assert all(ANNY_OF[n] in BODY_JOINTS for n in PARKOUR_JOINTS)
    assert all(n.split("_", 1)[0][0] == ANNY_OF[n][0] for n in PARKOUR_JOINTS)  # l_ -> left_, r_ -> right_


def test_summary_pairs_the_two_paths_per_item():
    rows = [{"id": str(i), "seconds": 1.0, "fit_iou": 0.7 + 0.01 * i, "network_iou": 0.4 + 0.02 * i} for i in range(4)]
    out = _summary(rows, ("iou",))
    assert out["fit_iou"][0] == pytest.approx(0.715)
    d = out["fit_minus_network"]["iou"]
    assert d["mean"] == pytest.approx(0.285) and d["sem"] > 0 and out["fit_minus_network"]["n"] == 4


def test_unknown_parts_are_refused_naming_the_known_ones():
    from hoi_perception.benchmarks.real import main

    with pytest.raises(SystemExit, match="handobject.*parkour"):
        main(["--parts", "frames,nope"])
