"""The simulated humanoid: an MJCF written from the clip's skeleton (so bone lengths match the
clip), one body per canonical joint, three hinges (x, y, z, nested in that order, so the local
rotation is Rx Ry Rz) per non-root joint, capsule limbs, box feet, mitten hands, PD position
servos; the object as a free body with the clip's mass properties."""
from __future__ import annotations

import numpy as np

from hoi_perception.body.joints import BODY_JOINTS

from .clip import ObjectSpec
from .objects import resolve_object
from .skeleton import CHILDREN, INDEX, J

# (kp N m/rad, torque limit N m) per joint; damping is kp / 10 (critically damped-ish for limbs).
GAINS = {
    "hip": (500, 300), "knee": (500, 300), "ankle": (300, 150), "foot": (100, 60),
    "spine": (600, 300), "neck": (150, 60), "head": (100, 40),
    "collar": (300, 150), "shoulder": (300, 150), "elbow": (200, 100), "wrist": (60, 30),
}
RADIUS = {"hip": 0.065, "knee": 0.05, "spine": 0.085, "pelvis": 0.08, "neck": 0.045, "collar": 0.045,
          "shoulder": 0.045, "elbow": 0.038, "head": 0.05}
BODY_CONTYPE = 2  # body geoms collide with the floor and the object, not with each other
HAND_LENGTH = 0.09
FOOT_HALF = (0.045, 0.022)  # half width, half height of the foot boxes
TIMESTEP = 1.0 / 240.0


def role(name: str) -> str:
    base = name.split("_", 1)[-1] if name.startswith(("left_", "right_")) else name
    return "spine" if base.startswith("spine") else base


def _f(v) -> str:
    return " ".join(f"{x:.6g}" for x in np.atleast_1d(v))


def _limb_geoms(j: int, rest: np.ndarray, rgba: str, cls: str) -> list[str]:
    name = BODY_JOINTS[j]
    r = role(name)
    out = []
    if r == "pelvis":
        lh, rh = rest[INDEX["left_hip"]], rest[INDEX["right_hip"]]
        out.append(f'<geom class="{cls}" type="capsule" fromto="{_f(lh)} {_f(rh)}" size="{RADIUS["pelvis"]}" rgba="{rgba}"/>')
    if r in ("ankle", "foot"):
        center, quat, half = foot_box(j, rest)
        out.append(f'<geom class="{cls}" type="box" pos="{_f(center)}" quat="{_f(quat[[3, 0, 1, 2]])}" '
                   f'size="{_f(half)}" rgba="{rgba}"/>')
        return out
    if r == "wrist":  # mitten hand along the forearm
        d = rest[j] / np.linalg.norm(rest[j])
        out.append(f'<geom class="{cls}" type="box" fromto="0 0 0 {_f(HAND_LENGTH * d)}" size="0.04 0.015" rgba="{rgba}"/>')
        return out
    if r == "head":
        out.append(f'<geom class="{cls}" type="sphere" pos="0 0 0.04" size="0.1" rgba="{rgba}"/>')
        return out
    for c in CHILDREN[j]:
        off = rest[c]
        length = np.linalg.norm(off)
        if length < 0.02:
            continue
        rad = RADIUS.get(role(BODY_JOINTS[c]) if r == "spine" and role(BODY_JOINTS[c]) == "collar" else r, 0.05)
        if r == "pelvis" and role(BODY_JOINTS[c]) == "hip":
            continue
        start = off * min(0.15, rad / length)
        end = off * (1 - min(0.15, rad / length))
        out.append(f'<geom class="{cls}" type="capsule" fromto="{_f(start)} {_f(end)}" size="{rad}" rgba="{rgba}"/>')
    return out


def foot_box(j: int, rest: np.ndarray):
    """Foot box of an ankle or foot (ball) body in its body frame: centre, quaternion (xyzw), half
    sizes. The ankle box runs from the heel to the ball of the foot at the ball's height."""
    from scipy.spatial.transform import Rotation  # noqa: PLC0415

    if role(BODY_JOINTS[j]) == "ankle":
        toe = rest[CHILDREN[j][0]]
    else:
        toe = rest[j]
    fwd = np.array([toe[0], toe[1], 0.0])
    fwd = fwd / max(np.linalg.norm(fwd), 1e-6)
    if role(BODY_JOINTS[j]) == "ankle":
        a, b = -0.05 * fwd + np.array([0.0, 0.0, toe[2]]), toe.copy()
    else:
        a, b = np.zeros(3), 0.06 * fwd
    x = (b - a) / np.linalg.norm(b - a)
    y = np.cross([0.0, 0.0, 1.0], x)
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    quat = Rotation.from_matrix(np.stack([x, y, z], 1)).as_quat()
    half = np.array([np.linalg.norm(b - a) / 2, FOOT_HALF[0], FOOT_HALF[1]])
    return (a + b) / 2, quat, half


def foot_corners(rest: np.ndarray) -> dict[int, np.ndarray]:
    """The 8 corners (body frame) of each foot box, keyed by canonical joint index."""
    from scipy.spatial.transform import Rotation  # noqa: PLC0415

    out = {}
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    for side in ("left", "right"):
        for part in ("ankle", "foot"):
            j = INDEX[f"{side}_{part}"]
            c, q, h = foot_box(j, rest)
            out[j] = c + (signs * h) @ Rotation.from_quat(q).as_matrix().T
    return out


def _body_xml(j: int, rest: np.ndarray, prefix: str, cls: str, rgba: str, actuated: bool, indent: int) -> str:
    name = BODY_JOINTS[j]
    pad = "  " * indent
    pos = np.zeros(3) if j == 0 else rest[j]
    lines = [f'{pad}<body name="{prefix}{name}" pos="{_f(pos)}">']
    if j == 0:
        lines.append(f'{pad}  <freejoint name="{prefix}root"/>')
    else:
        kp, _ = GAINS[role(name)]
        for ax, axis in (("x", "1 0 0"), ("y", "0 1 0"), ("z", "0 0 1")):
            extra = f' damping="{kp / 10:.4g}"' if actuated else ""
            lines.append(f'{pad}  <joint name="{prefix}{name}_{ax}" type="hinge" axis="{axis}"{extra}/>')
    lines += [pad + "  " + g for g in _limb_geoms(j, rest, rgba, cls)]
    for c in CHILDREN[j]:
        lines.append(_body_xml(c, rest, prefix, cls, rgba, actuated, indent + 1))
    lines.append(f"{pad}</body>")
    return "\n".join(lines)


def _object_xml(spec: ObjectSpec, prefix: str, cls: str, rgba: str) -> tuple[str, str]:
    spec = resolve_object(spec)
    t = spec.template
    asset = ""
    if t["type"] == "sphere":
        geom = f'type="sphere" size="{t["radius"]}"'
    elif t["type"] == "box":
        geom = f'type="box" size="{_f(t["size"])}"'
    else:
        asset = f'<mesh name="{prefix}object_mesh" file="{t["path"]}"/>'
        geom = f'type="mesh" mesh="{prefix}object_mesh"'
    body = (f'<body name="{prefix}object" pos="0 0 2">\n  <freejoint name="{prefix}object_root"/>\n'
            f'  <inertial pos="{_f(spec.com)}" mass="{spec.mass}" diaginertia="{_f(spec.inertia)}"/>\n'
            f'  <geom class="{cls}" {geom} friction="{spec.friction} 0.01 0.001" rgba="{rgba}" mass="0"/>\n</body>')
    return asset, body


def build_mjcf(rest_offsets: np.ndarray, obj: ObjectSpec | None = None, ghost: bool = False) -> str:
    """MJCF text. With ``ghost`` a second, non-colliding, unactuated copy (prefix ``ghost_``) is
    added for showing the reference next to the simulated body (rendering only)."""
    rest = np.asarray(rest_offsets, dtype=np.float64)
    assets, bodies, actuators = [], [], []
    bodies.append(_body_xml(0, rest, "", "body", "0.85 0.55 0.35 1", True, 2))
    if obj is not None:
        a, b = _object_xml(obj, "", "object", "0.9 0.45 0.1 1")
        assets.append(a)
        bodies.append(b)
    for j in range(1, J):
        kp, tau = GAINS[role(BODY_JOINTS[j])]
        for ax in "xyz":
            n = f"{BODY_JOINTS[j]}_{ax}"
            actuators.append(f'<position name="{n}" joint="{n}" kp="{kp}" forcelimited="true" forcerange="-{tau} {tau}"/>')
    if ghost:
        bodies.append(_body_xml(0, rest, "ghost_", "ghost", "0.3 0.6 0.95 0.55", False, 2))
        if obj is not None:
            a, b = _object_xml(obj, "ghost_", "ghost", "0.3 0.6 0.95 0.55")
            assets.append(a)
            bodies.append(b)
    return f"""<mujoco model="hoi_humanoid">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{TIMESTEP:.8f}" integrator="implicitfast"/>
  <visual><global offwidth="960" offheight="540"/><quality shadowsize="2048"/></visual>
  <default>
    <joint armature="0.02" limited="false"/>
    <default class="body"><geom contype="{BODY_CONTYPE}" conaffinity="1" condim="3" friction="1 0.05 0.01" density="1000"/></default>
    <default class="object"><geom contype="1" conaffinity="1" condim="4"/></default>
    <default class="ghost"><geom contype="0" conaffinity="0" density="1000"/></default>
  </default>
  <asset>
    <texture name="grid" type="2d" builtin="checker" rgb1=".25 .28 .32" rgb2=".35 .38 .42" width="256" height="256"/>
    <material name="grid" texture="grid" texrepeat="20 20"/>
    {"".join(assets)}
  </asset>
  <worldbody>
    <light pos="0 0 6" dir="0 0 -1" directional="true" diffuse=".8 .8 .8"/>
    <geom name="floor" type="plane" size="50 50 0.1" material="grid" contype="1" conaffinity="1" condim="3"/>
{chr(10).join(bodies)}
  </worldbody>
  <actuator>
    {chr(10).join('    ' + a for a in actuators).strip()}
  </actuator>
</mujoco>
"""
