"""How much mesh a published result carries: "compact" (the default) or "full".

A full-body result holds the anny body's 13,718 vertices and their contacts, a hand-object result its
object mesh and the fitted hand mesh: at 30 results/s, 400 and 172 MB a minute of bag
(docs/benchmarks.md). Compact keeps what a robot acts on: each body's or hand's parameters, root pose
and joints, its vertices and contacts on its model's vertex subset (the vertices its network predicts,
`hoi_perception/body/vertex_subset.py`: 431 of the body's, 128 of a hand's; the values are the full
mesh's there), and each object's pose, scale, template id and contacts without an inline mesh. The
subset's indices into the full mesh travel once, with the model's faces, in MeshTopology;
BodyState.vertex_subset names the subset. "full" keeps everything, for consumers that need the
surfaces (the markers, overlays and mesh files always use the full result).
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from hoi_perception.pipeline.types import BodyState, FullBodyResult, HandObjectResult, ObjectState

COMPACT, FULL = "compact", "full"
MESH_DETAILS = (COMPACT, FULL)
# the MESH_DETAIL_* constants of HoiFrame and HandObjectResult
MESSAGE_VALUE = {COMPACT: 0, FULL: 1}

# body model ids of the shipped reconstructors -> the kind of their vertex subset
# ("hand21": the hand-object network's own hand, on the right-hand topology; both sides share the indices)
SUBSET_KINDS = {"anny_body": "body", "anny_hand_left": "hand_left", "anny_hand_right": "hand_right",
                "hand21": "hand_right"}


@dataclasses.dataclass(frozen=True)
class SubsetRef:
    """A model's vertex subset as messages name it: id, indices into the full mesh, full vertex count."""

    subset_id: str
    indices: np.ndarray
    num_full: int


def check(detail: str) -> str:
    if detail not in MESH_DETAILS:
        raise ValueError(f"mesh_detail must be one of {', '.join(MESH_DETAILS)}, got {detail!r}")
    return detail


@functools.cache
def model_subset(model_id: str) -> SubsetRef | None:
    """The vertex subset of a body model id, or None when it has none."""
    kind = SUBSET_KINDS.get(model_id)
    if kind is None:
        return None
    from hoi_perception.body.vertex_subset import load_subset

    s = load_subset(kind)
    indices = s.indices.cpu().numpy().astype(np.uint32)
    indices.flags.writeable = False  # shared by every result
    return SubsetRef(f"{model_id}/subset{s.num_subset}", indices, s.num_full)


def _usable_subset(b: BodyState, topologies: dict) -> SubsetRef | None:
    """The subset a body is reduced to: its model must have one, send its indices with its faces (the
    topology) and carry the full mesh; anything else goes out as it is, so nothing becomes unmappable."""
    if b.vertex_subset or b.model_id not in topologies or not len(b.vertices):
        return None
    ref = model_subset(b.model_id)
    return ref if ref is not None and ref.num_full == len(b.vertices) else None


def compact_body(b: BodyState, topologies: dict) -> BodyState:
    ref = _usable_subset(b, topologies)
    if ref is None:
        return b
    contact = b.vertex_contact[ref.indices] if b.vertex_contact.size else b.vertex_contact
    return dataclasses.replace(b, vertices=b.vertices[ref.indices], vertex_contact=contact,
                               vertex_subset=ref.subset_id)


def compact_object(o: ObjectState) -> ObjectState:
    """Pose, scale, template id and contacts; no inline mesh (its contacts go with it: they index it)."""
    if o.mesh is None:
        return o
    return dataclasses.replace(o, mesh=None, vertex_contact=np.zeros(0, np.float32))


def select(result: FullBodyResult | HandObjectResult, detail: str) -> FullBodyResult | HandObjectResult:
    """The result as published with `detail`: itself for "full", a reduced copy for "compact"."""
    if check(detail) == FULL or result.mesh_detail == COMPACT:
        return result
    topo = result.topologies
    if isinstance(result, FullBodyResult):
        return dataclasses.replace(result, bodies=[compact_body(b, topo) for b in result.bodies],
                                   objects=[compact_object(o) for o in result.objects], mesh_detail=COMPACT)
    return dataclasses.replace(result, hands=[compact_body(h, topo) for h in result.hands],
                               object=compact_object(result.object), mesh_detail=COMPACT)
