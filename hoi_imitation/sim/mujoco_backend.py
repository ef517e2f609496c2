"""MuJoCo binding of the simulator interface."""
from __future__ import annotations

import mujoco
import numpy as np

from hoi_perception.body.joints import BODY_JOINTS

from ..clip import ObjectSpec
from ..humanoid import TIMESTEP, build_mjcf
from ..rotations import cross3
from .base import ResetState, RootAssist, Simulator, SimState


def _xyzw(wxyz: np.ndarray) -> np.ndarray:
    return wxyz[..., [1, 2, 3, 0]]


def _wxyz(xyzw: np.ndarray) -> np.ndarray:
    return np.asarray(xyzw)[..., [3, 0, 1, 2]]


class MujocoBinding:
    """Name -> index maps for a humanoid model (shared by the simulator and the renderer)."""

    def __init__(self, model: mujoco.MjModel, prefix: str = ""):
        m = model
        self.body_ids = np.array([m.body(prefix + n).id for n in BODY_JOINTS])
        jid = [m.joint(f"{prefix}{n}_{a}").id for n in BODY_JOINTS[1:] for a in "xyz"]
        self.dof_qpos = np.array([m.jnt_qposadr[j] for j in jid])
        self.dof_qvel = np.array([m.jnt_dofadr[j] for j in jid])
        root = m.joint(prefix + "root").id
        self.root_qpos = int(m.jnt_qposadr[root])
        self.root_qvel = int(m.jnt_dofadr[root])
        try:
            o = m.joint(prefix + "object_root").id
            self.obj_qpos, self.obj_qvel = int(m.jnt_qposadr[o]), int(m.jnt_dofadr[o])
            self.obj_body = m.body(prefix + "object").id
        except KeyError:
            self.obj_qpos = self.obj_qvel = self.obj_body = None

    def set_qpos(self, data, root_pos, root_quat, dof_pos, obj_pos=None, obj_quat=None):
        data.qpos[self.root_qpos:self.root_qpos + 3] = root_pos
        data.qpos[self.root_qpos + 3:self.root_qpos + 7] = _wxyz(root_quat)
        data.qpos[self.dof_qpos] = dof_pos
        if self.obj_qpos is not None and obj_pos is not None:
            data.qpos[self.obj_qpos:self.obj_qpos + 3] = obj_pos
            data.qpos[self.obj_qpos + 3:self.obj_qpos + 7] = _wxyz(obj_quat)


class MujocoSimulator(Simulator):
    def __init__(self, rest_offsets: np.ndarray, obj: ObjectSpec | None, control_dt: float):
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(rest_offsets, obj))
        self.data = mujoco.MjData(self.model)
        self.b = MujocoBinding(self.model)
        self.control_dt = control_dt
        self.substeps = max(1, int(round(control_dt / TIMESTEP)))
        self.model.opt.timestep = control_dt / self.substeps
        self.num_dof = len(self.b.dof_qpos)
        # actuator k drives dof k (built in the same order)
        self.has_object = self.b.obj_qpos is not None
        m = self.model
        hand_bodies = [m.body(n).id for n in ("left_wrist", "right_wrist")]
        foot_bodies = [[m.body(f"{s}_ankle").id, m.body(f"{s}_foot").id] for s in ("left", "right")]
        self._hand_geoms = [set(np.nonzero(m.geom_bodyid == b)[0].tolist()) for b in hand_bodies]
        self._foot_geoms = [set(np.nonzero(np.isin(m.geom_bodyid, fb))[0].tolist()) for fb in foot_bodies]
        self._floor = m.geom("floor").id
        self._obj_geoms = set(np.nonzero(m.geom_bodyid == self.b.obj_body)[0].tolist()) if self.has_object else set()
        self._root_body = self.b.body_ids[0]
        self.body_mass = float(m.body_subtreemass[self._root_body])

    def reset(self, s: ResetState) -> None:
        mujoco.mj_resetData(self.model, self.data)
        d, b = self.data, self.b
        b.set_qpos(d, s.root_pos, s.root_quat, s.dof_pos, s.object_pos, s.object_quat)
        d.qvel[b.root_qvel:b.root_qvel + 3] = s.root_linvel
        # free-joint angular velocity is in the body frame
        rot = np.empty(9)
        mujoco.mju_quat2Mat(rot, _wxyz(s.root_quat))
        d.qvel[b.root_qvel + 3:b.root_qvel + 6] = rot.reshape(3, 3).T @ s.root_angvel
        d.qvel[b.dof_qvel] = s.dof_vel
        if self.has_object and s.object_pos is not None:
            d.qvel[b.obj_qvel:b.obj_qvel + 3] = s.object_linvel
            mujoco.mju_quat2Mat(rot, _wxyz(s.object_quat))
            d.qvel[b.obj_qvel + 3:b.obj_qvel + 6] = rot.reshape(3, 3).T @ s.object_angvel
        d.ctrl[:] = s.dof_pos
        mujoco.mj_forward(self.model, d)

    def step(self, pd_targets: np.ndarray, assist: RootAssist | None = None) -> None:
        d, b = self.data, self.b
        d.ctrl[:] = pd_targets
        for _ in range(self.substeps):
            if assist is not None:
                q, v = d.qpos, d.qvel
                rot = d.xmat[b.body_ids[0]].reshape(3, 3)
                d.xfrc_applied[self._root_body] = assist.wrench(
                    q[b.root_qpos:b.root_qpos + 3], _xyzw(q[b.root_qpos + 3:b.root_qpos + 7]),
                    v[b.root_qvel:b.root_qvel + 3], rot @ v[b.root_qvel + 3:b.root_qvel + 6])
            mujoco.mj_step(self.model, d)
        if assist is not None:
            d.xfrc_applied[self._root_body] = 0.0

    def _contacts(self):
        hand = np.zeros(2, bool)
        foot = np.zeros(2, bool)
        d = self.data
        for i in range(d.ncon):
            c = d.contact[i]
            g1, g2 = int(c.geom1), int(c.geom2)
            for k in range(2):
                if self._obj_geoms and ((g1 in self._hand_geoms[k] and g2 in self._obj_geoms)
                                        or (g2 in self._hand_geoms[k] and g1 in self._obj_geoms)):
                    hand[k] = True
                if (g1 == self._floor and g2 in self._foot_geoms[k]) or (g2 == self._floor and g1 in self._foot_geoms[k]):
                    foot[k] = True
        return hand, foot

    def state(self) -> SimState:
        d, b = self.data, self.b
        q = d.qpos
        v = d.qvel
        root_quat = _xyzw(q[b.root_qpos + 3:b.root_qpos + 7])
        rot = d.xmat[b.body_ids[0]].reshape(3, 3)
        # body linear velocities (world) from the com-based cvel: v_point = v_com + w x (p - com)
        cvel = d.cvel[b.body_ids]  # (J, 6): angular, linear at subtree com of the tree root
        com = d.subtree_com[self.model.body_rootid[b.body_ids]]
        lin = cvel[:, 3:] + cross3(cvel[:, :3], d.xpos[b.body_ids] - com)
        hand, foot = self._contacts()
        st = SimState(
            root_pos=q[b.root_qpos:b.root_qpos + 3].copy(), root_quat=root_quat,
            root_linvel=v[b.root_qvel:b.root_qvel + 3].copy(), root_angvel=rot @ v[b.root_qvel + 3:b.root_qvel + 6],
            dof_pos=q[b.dof_qpos].copy(), dof_vel=v[b.dof_qvel].copy(), body_pos=d.xpos[b.body_ids].copy(),
            body_quat=_xyzw(d.xquat[b.body_ids]), body_linvel=lin, hand_object_contact=hand, foot_ground_contact=foot)
        if self.has_object:
            orot = d.xmat[b.obj_body].reshape(3, 3)
            st.object_pos = q[b.obj_qpos:b.obj_qpos + 3].copy()
            st.object_quat = _xyzw(q[b.obj_qpos + 3:b.obj_qpos + 7])
            st.object_linvel = v[b.obj_qvel:b.obj_qvel + 3].copy()
            st.object_angvel = orot @ v[b.obj_qvel + 3:b.obj_qvel + 6]
        return st
