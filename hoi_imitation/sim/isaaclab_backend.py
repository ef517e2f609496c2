"""Isaac Lab binding of the simulator interface (optional; its own environment, GPU machine).

Only this file differs from the MuJoCo path: the same MJCF (humanoid.build_mjcf) is converted to
USD with Isaac Lab's MJCF converter, and the task, reference, rewards and PPO code are shared.
See docs/isaaclab.md. It simulates one environment per process, like the MuJoCo backend, so the
gymnasium env and SB3 work unchanged; batched GPU training would batch this class.

Isaac Lab is not installable on the development machines (Python 3.12, NVIDIA's index, RTX GPU),
so this binding is not exercised by the test suite.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from hoi_perception.body.joints import BODY_JOINTS

from ..clip import ObjectSpec
from ..humanoid import build_mjcf
from ..skeleton import HANDS
from .base import ResetState, RootAssist, Simulator, SimState

try:  # import guard: Isaac Lab lives in its own environment
    from isaaclab.app import AppLauncher  # type: ignore
except ImportError as e:  # pragma: no cover - exercised only where Isaac Lab is missing
    AppLauncher = None
    _IMPORT_ERROR = e
else:
    _IMPORT_ERROR = None

_APP = None


def _xyzw(wxyz):
    return np.asarray(wxyz)[..., [1, 2, 3, 0]]


def _wxyz(xyzw):
    return np.asarray(xyzw)[..., [3, 0, 1, 2]]


class IsaacLabSimulator(Simulator):
    def __init__(self, rest_offsets: np.ndarray, obj: ObjectSpec | None, control_dt: float):
        if AppLauncher is None:
            raise RuntimeError("the Isaac Lab backend needs Isaac Lab (see docs/isaaclab.md); "
                               f"import failed: {_IMPORT_ERROR}")
        global _APP
        if _APP is None:
            _APP = AppLauncher(headless=True).app
        import torch  # noqa: PLC0415
        import isaaclab.sim as sim_utils  # noqa: PLC0415
        from isaaclab.actuators import ImplicitActuatorCfg  # noqa: PLC0415
        from isaaclab.assets import Articulation, ArticulationCfg, RigidObject, RigidObjectCfg  # noqa: PLC0415
        from isaaclab.sim.converters import MjcfConverter, MjcfConverterCfg  # noqa: PLC0415

        from ..humanoid import GAINS, TIMESTEP, role  # noqa: PLC0415

        self.torch = torch
        self.device = "cuda:0" if torch.cuda.is_available() else "cpu"
        work = Path(tempfile.mkdtemp(prefix="hoi_isaac_"))
        (work / "humanoid.xml").write_text(build_mjcf(rest_offsets, None))
        usd = MjcfConverter(MjcfConverterCfg(asset_path=str(work / "humanoid.xml"), usd_dir=str(work),
                                             fix_base=False, import_sites=False)).usd_path
        self.substeps = max(1, int(round(control_dt / TIMESTEP)))
        self.control_dt = control_dt
        self.sim = sim_utils.SimulationContext(sim_utils.SimulationCfg(dt=control_dt / self.substeps, device=self.device))
        sim_utils.GroundPlaneCfg().func("/World/ground", sim_utils.GroundPlaneCfg())
        act = {}
        for j in BODY_JOINTS[1:]:
            kp, tau = GAINS[role(j)]
            act[j] = ImplicitActuatorCfg(joint_names_expr=[f"{j}_[xyz]"], stiffness=kp, damping=kp / 10, effort_limit=tau)
        self.robot = Articulation(ArticulationCfg(prim_path="/World/humanoid", spawn=sim_utils.UsdFileCfg(usd_path=usd),
                                                  actuators=act))
        self.obj = None
        if obj is not None:
            t = obj.template
            shape = (sim_utils.SphereCfg(radius=t["radius"]) if t["type"] == "sphere"
                     else sim_utils.CuboidCfg(size=tuple(2 * np.asarray(t["size"]))) if t["type"] == "box"
                     else sim_utils.MeshCuboidCfg(size=(0.1, 0.1, 0.1)))
            shape.rigid_props = sim_utils.RigidBodyPropertiesCfg()
            shape.mass_props = sim_utils.MassPropertiesCfg(mass=obj.mass)
            shape.collision_props = sim_utils.CollisionPropertiesCfg()
            self.obj = RigidObject(RigidObjectCfg(prim_path="/World/object", spawn=shape))
        self.sim.reset()
        names = list(self.robot.joint_names)
        self.dof_idx = [names.index(f"{j}_{a}") for j in BODY_JOINTS[1:] for a in "xyz"]
        bnames = list(self.robot.body_names)
        self.body_idx = [bnames.index(j) for j in BODY_JOINTS]
        self.num_dof = len(self.dof_idx)
        self.body_mass = float(self.robot.data.default_mass[0].sum())

    def _t(self, x):
        return self.torch.as_tensor(np.asarray(x, dtype=np.float32), device=self.device)[None]

    def reset(self, s: ResetState) -> None:
        pose = np.concatenate([s.root_pos, _wxyz(s.root_quat)])
        vel = np.concatenate([s.root_linvel, s.root_angvel])
        self.robot.write_root_pose_to_sim(self._t(pose))
        self.robot.write_root_velocity_to_sim(self._t(vel))
        q = np.zeros(len(self.robot.joint_names))
        dq = np.zeros_like(q)
        q[self.dof_idx], dq[self.dof_idx] = s.dof_pos, s.dof_vel
        self.robot.write_joint_state_to_sim(self._t(q), self._t(dq))
        self.robot.set_joint_position_target(self._t(q))
        if self.obj is not None and s.object_pos is not None:
            self.obj.write_root_pose_to_sim(self._t(np.concatenate([s.object_pos, _wxyz(s.object_quat)])))
            self.obj.write_root_velocity_to_sim(self._t(np.concatenate([s.object_linvel, s.object_angvel])))
        self.robot.reset()
        self.sim.forward()
        self.robot.update(0.0)

    def step(self, pd_targets: np.ndarray, assist: RootAssist | None = None) -> None:
        q = np.zeros(len(self.robot.joint_names))
        q[self.dof_idx] = pd_targets
        self.robot.set_joint_position_target(self._t(q))
        dt = self.control_dt / self.substeps
        n = lambda x: x[0].detach().cpu().numpy().astype(np.float64)  # noqa: E731
        for _ in range(self.substeps):
            if assist is not None:  # the shared PD wrench, re-evaluated every physics step
                d = self.robot.data
                w = assist.wrench(n(d.root_pos_w), _xyzw(n(d.root_quat_w)), n(d.root_lin_vel_w), n(d.root_ang_vel_w))
                self.robot.set_external_force_and_torque(self._t(w[None, None, :3]), self._t(w[None, None, 3:]),
                                                         body_ids=[self.body_idx[0]], is_global=True)
            self.robot.write_data_to_sim()
            self.sim.step(render=False)
            self.robot.update(dt)
            if self.obj is not None:
                self.obj.update(dt)

    def state(self) -> SimState:
        d = self.robot.data
        n = lambda x: x[0].detach().cpu().numpy().astype(np.float64)  # noqa: E731
        st = SimState(
            root_pos=n(d.root_pos_w), root_quat=_xyzw(n(d.root_quat_w)), root_linvel=n(d.root_lin_vel_w),
            root_angvel=n(d.root_ang_vel_w), dof_pos=n(d.joint_pos)[self.dof_idx], dof_vel=n(d.joint_vel)[self.dof_idx],
            body_pos=n(d.body_pos_w)[self.body_idx], body_quat=_xyzw(n(d.body_quat_w)[self.body_idx]),
            body_linvel=n(d.body_lin_vel_w)[self.body_idx],
            hand_object_contact=np.zeros(2, bool), foot_ground_contact=np.zeros(2, bool))
        if self.obj is not None:
            o = self.obj.data
            st.object_pos, st.object_quat = n(o.root_pos_w), _xyzw(n(o.root_quat_w))
            st.object_linvel, st.object_angvel = n(o.root_lin_vel_w), n(o.root_ang_vel_w)
            # contact proxy until a ContactSensor is configured: a hand within the object's reach
            r = 0.15
            st.hand_object_contact = np.linalg.norm(st.body_pos[list(HANDS)] - st.object_pos, axis=-1) < r
        return st
