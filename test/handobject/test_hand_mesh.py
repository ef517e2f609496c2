"""The anny hand fitted to hand joints: recovers a known posed hand; bad joints are refused."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from hoi_perception.body.interface import BodyParams
from hoi_perception.handobject.hand_mesh import HandMeshFitter


@pytest.fixture(scope="module")
def fitter():
    return HandMeshFitter("right", iters=20)


def test_fit_recovers_a_posed_hand(fitter):
    m = fitter.model
    p = m.rest_params(1)
    pose = 0.3 * torch.randn(p.pose.shape, generator=torch.Generator().manual_seed(0))
    orient = torch.tensor(Rotation.from_euler("xyz", [30, -40, 70], degrees=True).as_rotvec(), dtype=torch.float32)[None]
    with torch.no_grad():
        gt = m(BodyParams(p.shape, pose, orient, torch.tensor([[0.05, -0.02, 0.4]])))
    h = fitter.fit(gt.joints[0].numpy())
    assert h.error_m < 0.006
    assert np.linalg.norm(h.vertices - gt.vertices[0].numpy(), axis=-1).mean() < 0.008
    assert h.faces.shape[1] == 3 and h.faces.max() < len(h.vertices)


def test_bad_joints_are_refused(fitter):
    with pytest.raises(ValueError, match="finite"):
        fitter.fit(np.full((21, 3), np.nan))
    with pytest.raises(ValueError, match="21, 3"):
        fitter.fit(np.zeros((20, 3)))
    with pytest.raises(ValueError, match="side"):
        HandMeshFitter("middle")
