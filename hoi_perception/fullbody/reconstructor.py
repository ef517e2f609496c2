"""The full-body Reconstructor (task "fullbody") and the inference shared by every backend.

`models/<name>/model_card.yaml`: format python, entry_point hoi_perception.fullbody.reconstructor:build.
Card fields used: weights_torch (fp16 safetensors), weights_onnx, config (model config dict),
classes (object ids of the class head, in order), backend (default onnxruntime), threads,
flip_average (average in a pass on the mirrored crop, `flip.py`; default false), silhouette_fit
(move the object onto the given object mask, `silhouette_fit.py`; default false), person_fit (the
body fitted to the front end's person, `person.py`; default false).

Frame.masks: the LAST mask is the object; the union of the others, when there are others, is the
person (so [person, object] and the data engine's [body, left hand, right hand, object] work).
With ``person_fit`` (card field or option; default on where the card says so) the front end
(`hoi_perception.frontend`) finds the people and hands, the person the object belongs to is
chosen, its mask is used where none is given, and the anny body is fitted to its keypoints, mask
and hands (`person.py`, `hoi_perception.fitting`): a frame with no person gives no result. Without
it, both masks must be given and the network's body is published as it comes. The object class is
the `object_class` option (an object library id, e.g. a template the person is known to handle, as
on BEHAVE where the object name is given); without it the network's class head picks one of its
training classes (said in ObjectState.class_name).

The object mask (with ``person_fit``): the given one; else, with ``object_masks`` "auto" (default),
from the frame's depth image (the surface at the hands) or the learned object segmenter prompted by
the chosen person's mask and hands (`hoi_perception.objectmask`); ObjectState.mask_source says which.
"given" refuses frames without one.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from hoi_perception.backends import BACKENDS, BackendError, default_device, load_backend
from hoi_perception.fitting.contact_terms import ANCHOR_WEIGHT
from hoi_perception.geometry import quaternion_xyzw, rot6d_to_matrix, similarity_transform
from hoi_perception.objectmask.sources import choose_object_mask, hand_points
from hoi_perception.pipeline.stages import InferenceError, ModelNotAvailable, Reconstructor
from hoi_perception.pipeline.types import (
    PART_BODY,
    PART_LEFT_HAND,
    PART_RIGHT_HAND,
    BodyState,
    Frame,
    FullBodyResult,
    InputError,
    ObjectState,
    Pose,
)

from .model import EXPORT_OUTPUTS, N_BODY_V, CrossHOI, ExportWrapper, ModelConfig
from .person import PersonFit, fitted_outputs
from .preprocess import make_crop

INPUT_NAMES = ("image", "intrinsics", "template")
OBJECT_MASK_MODES = ("auto", "given")
# the spatial prior's weight, viewports and contact weight (`fitting.prior_terms`; card fields override)
PRIOR_WEIGHT, PRIOR_VIEWPORTS, PRIOR_CONTACT = 2.0, 8, 5.0
log = logging.getLogger("hoi_perception.fullbody")
BODY_MODEL_ID = "anny_body"
JOINT_SET = "anny_body22+hands42"


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """fp16/fp32 safetensors -> model (strict); clear errors for a missing or truncated file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelNotAvailable(f"weights file {path} is missing")
    try:
        sd = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelNotAvailable(f"weights file {path} is unreadable (truncated or not safetensors): {exc}") from exc
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    if missing:
        raise ModelNotAvailable(f"weights file {path} lacks {len(missing)} tensors (e.g. {missing[:3]})")
    model.load_state_dict({k: sd[k].to(own[k].dtype) for k in own}, strict=True)


class FullBodyInference:
    """Pre-processing, one backend run, post-processing (shared by torch / ORT / TensorRT).

    With ``flip_average`` the crop and its mirror image run as one batch of two and the outputs
    are averaged (`flip.merge_flipped`); the result then carries the full-mesh body. With
    ``silhouette_fit`` the object's pose is then fitted to the object mask (`silhouette_fit.py`)."""

    def __init__(self, backend, cfg: ModelConfig, classes: list[str], flip_average: bool = False,
                 silhouette_fit: bool = False, library=None, maps=None, spatial_prior=None, contact_model=None) -> None:
        """``library`` (object templates) and ``maps`` (`flip.MirrorMaps`) default to the object
        library and anny's rest mesh; passing them lets a machine without either run the inference.
        ``spatial_prior`` (`spatialprior.prior.SpatialPrior`): after the object fit beside a fitted
        person, it sets the object's depth along the camera's rays (`fit_object`). ``contact_model``
        (`contacts.model.ContactModel`): the published contacts come from it instead of the network's
        head (`predict_contacts`), and beside a fitted person they anchor the object's depth too."""
        self.backend, self.cfg, self.classes = backend, cfg, list(classes)
        self.spatial_prior = spatial_prior
        self.contact_model, self.anchor_weight = contact_model, ANCHOR_WEIGHT
        self._contacts_said = None
        self.prior_weight, self.prior_viewports, self.prior_contact = PRIOR_WEIGHT, PRIOR_VIEWPORTS, PRIOR_CONTACT
        self.flip_average, self.silhouette_fit = bool(flip_average), bool(silhouette_fit)
        if library is None:
            from hoi_perception.assets import object_library

            library = object_library()
        self.library = library
        from hoi_perception.body.vertex_subset import load_subset

        # where the network runs on a GPU, so do the upsampling of the mirrored passes and the fit's steps
        self.device = getattr(backend, "device", "cpu")
        self.subset = load_subset("body", device=self.device)
        if self.flip_average and maps is None:
            from .flip import mirror_maps

            maps = mirror_maps()
        self.maps = maps
        self._prior_said = None
        self.fitter = None
        if self.silhouette_fit and self.device == "cuda":
            from .silhouette_fit_torch import TorchFitter

            self.fitter = TorchFitter(self.device)

    def template(self, object_class: str) -> np.ndarray:
        if object_class not in self.library:
            raise InputError(f"unknown object class {object_class!r}: not in the object library "
                             f"(known: {', '.join(self.library.ids('all'))})")
        return self.library.get(object_class).subset_vertices.astype(np.float32)

    def run(self, image: np.ndarray, human: np.ndarray, obj: np.ndarray, k: np.ndarray,
            object_class: str | None = None, fit_object: bool = True) -> dict:
        """Network outputs for one image; ``fit_object`` False leaves the object fit to the caller
        (who first replaces the body it is fitted beside)."""
        crop = make_crop(image, human, obj, k, self.cfg.crop)
        feeds = {"image": crop.image[None], "intrinsics": crop.intrinsics[None]}
        predicted_class = None
        if object_class is None:
            # the class head does not depend on the template: one pass gives the class
            first = self._run({**feeds, "template": np.zeros((1, 64, 3), np.float32)})
            logits = first["object_logits"][0]
            idx = int(np.argmax(logits))
            p = np.exp(logits - logits.max())
            predicted_class = (self.classes[idx], float(p[idx] / p.sum()))
            object_class = self.classes[idx]
        template = self.template(object_class)[None]
        if self.flip_average:
            from .flip import flip_inputs, merge_flipped

            image_f, k_f = flip_inputs(feeds["image"], feeds["intrinsics"])
            both = self._run({"image": np.concatenate([feeds["image"], image_f]),
                              "intrinsics": np.concatenate([feeds["intrinsics"], k_f]),
                              "template": np.concatenate([template, template])})
            out = merge_flipped({k: v[:1] for k, v in both.items()}, {k: v[1:] for k, v in both.items()},
                                self.subset, self.maps)
        else:
            out = self._run({**feeds, "template": template})
        res = {k: v[0] for k, v in out.items()}
        res["object_class"] = object_class
        res["class_predicted"] = predicted_class
        res["crop"] = crop
        # refined object pose: similarity from the template subset to the refined vertices
        s, r, t = similarity_transform(self.template(object_class), res["object_vertices"])
        res["object_pose_refined"] = (float(s), r, t)
        if self.silhouette_fit and fit_object:
            self.fit_object(res, human, obj, k)
        return res

    def fit_object(self, res: dict, human: np.ndarray, obj: np.ndarray, k: np.ndarray,
                   beside_fitted_body: bool = False) -> None:
        """The object's pose and size moved onto the given object mask (`silhouette_fit.py`). Beside a
        body fitted to the front end (``beside_fitted_body``) the spatial prior then sets its depth along
        the camera's rays: the network's object depth belongs to the network's own body, which the fit
        replaced. Beside the network's body the two agree already (on renders the prior moved them
        apart: docs/spatial_prior.md)."""
        from .flip import full_body
        from .silhouette_fit import fit_object_pose

        if "body_vertices_full" not in res:  # one pass: upsample once, kept for the result's mesh too
            v, c = full_body({"body_vertices": res["body_vertices"][None], "contact": res["contact"][None]}, self.subset)
            res["body_vertices_full"], res["body_contact_full"] = v[0], c[0]
        asset = self.library.get(res["object_class"])
        prior = self.prior_evidence(res, asset) if beside_fitted_body else None
        anchor = self.contact_anchor(res, asset) if beside_fitted_body else None
        res["object_pose_refined"], res["silhouette_fit"] = fit_object_pose(
            res["object_pose_refined"], asset.vertices, asset.faces, res["body_vertices_full"], obj, human, k,
            fitter=self.fitter, prior=prior, anchor=anchor)

    def predict_contacts(self, res: dict) -> None:
        """The contact model's contacts for this crop and body (the fitted one where there is one) replace the
        head's: res["body_contact_full"] on the full mesh and res["object_contact"] on the template subset."""
        from .flip import full_body

        if "body_vertices_full" not in res:
            v, c = full_body({"body_vertices": res["body_vertices"][None], "contact": res["contact"][None]}, self.subset)
            res["body_vertices_full"], res["body_contact_full"] = v[0], c[0]
        asset = self.library.get(res["object_class"])
        crop = res["crop"]
        s, r, t = res["object_pose_refined"]
        placed = s * asset.subset_vertices.astype(np.float64) @ r.T + t
        try:
            out = self.contact_model.predict(crop.image, crop.intrinsics, res["joints"], res["hand_joints"],
                                             res["body_vertices_full"], placed, asset.id, asset.surface_points,
                                             asset.subset_vertices)
        except (ValueError, RuntimeError) as exc:  # e.g. a body with non-finite vertices
            raise InferenceError(f"contact model: {exc}") from exc
        if out.note != self._contacts_said:  # said once per change, not per frame
            if out.note:
                log.info("full body: %s", out.note)
            self._contacts_said = out.note
        res["body_contact_full"], res["object_contact"], res["contact_result"] = out.body, out.object, out

    def contact_anchor(self, res: dict, asset):
        """The contact model's anchor for the object's depth (`fitting.contact_terms`), or None (no model, or
        too few contacts predicted: res["contact_anchor"] says why)."""
        if "contact_result" not in res or self.anchor_weight <= 0:
            res["contact_anchor"] = "off"
            return None
        from hoi_perception.fitting.contact_terms import contact_evidence

        s, r, t = res["object_pose_refined"]
        sub = s * asset.subset_vertices.astype(np.float64) @ r.T + t
        out = res["contact_result"]
        ev, why = contact_evidence(res["body_vertices_full"], out.body, sub, out.object, out.threshold, self.anchor_weight)
        res["contact_anchor"] = f"off: {why}" if ev is None else "on"
        return ev

    def prior_evidence(self, res: dict, asset):
        """The spatial prior's evidence for this image, or None (no prior, or it cannot score this
        object: res["spatial_prior"] says why)."""
        if self.spatial_prior is None:
            res["spatial_prior"] = "off"
            return None
        from hoi_perception.fitting.prior_terms import PriorEvidence

        s, r, t = res["object_pose_refined"]
        ev = PriorEvidence(self.spatial_prior, np.asarray(res["joints"], np.float64),
                           s * asset.keypoints.astype(np.float64) @ r.T + t, asset.id, asset.extents,
                           weight=self.prior_weight, viewports=self.prior_viewports, contact_weight=self.prior_contact)
        reason = ev.unavailable()
        if reason and reason != self._prior_said:  # said once per change, not per frame
            log.info("full body: spatial prior off for this object: %s", reason)
        self._prior_said = reason
        res["spatial_prior"] = f"off: {reason}" if reason else "on"
        return None if reason else ev

    def _run(self, feeds: dict) -> dict:
        try:
            out = self.backend.run(feeds)
        except BackendError as exc:
            raise InferenceError(str(exc)) from exc
        for name, v in out.items():
            if np.asarray(v).dtype.kind == "f" and not np.all(np.isfinite(v)):
                raise InferenceError(f"model output {name!r} contains NaN or infinite values")
        return out


class FullBodyReconstructor(Reconstructor):
    task = "fullbody"

    def __init__(self, model_dir: Path, card: dict, backend: str | None = None, object_class: str | None = None,
                 threads: int | None = None, flip_average: bool | None = None,
                 silhouette_fit: bool | None = None, device: str | None = None, person_fit: bool | None = None,
                 frontend: str = "mediapipe", frontend_mode: str = "video", object_masks: str | None = None,
                 segmenter_dir: str | None = None, spatial_prior: bool | None = None,
                 spatial_prior_dir: str | None = None, contact_model: bool | None = None,
                 contact_model_dir: str | None = None) -> None:
        super().__init__(str(card["name"]), card)
        for key in ("config", "classes"):
            if key not in card:
                raise ModelNotAvailable(f"model card of {card['name']!r} lacks {key!r}")
        self.cfg = ModelConfig(**card["config"])
        self.classes = list(card["classes"])
        self.backend_name = backend or str(card.get("backend", "onnxruntime"))
        threads = int(threads or card.get("threads", 1))
        if self.backend_name not in BACKENDS:
            raise ModelNotAvailable(f"unknown backend {self.backend_name!r} ({', '.join(BACKENDS)})")
        device = device or default_device(self.backend_name)
        try:
            if self.backend_name == "torch":
                net = CrossHOI(self.cfg)
                load_weights(net, model_dir / str(card.get("weights_torch", "model.safetensors")))
                be = load_backend("torch", torch_module=ExportWrapper(net).eval(), input_names=INPUT_NAMES,
                                  output_names=EXPORT_OUTPUTS, threads=threads, device=device)
            else:
                be = load_backend(self.backend_name, threads=threads, device=device,
                                  onnx_path=model_dir / str(card.get("weights_onnx", "model.onnx")))
        except BackendError as exc:
            raise ModelNotAvailable(f"model {card['name']!r}: {exc}") from exc
        # the card says whether the mirrored pass is averaged in (older cards: no); callers may override
        flip = bool(card.get("flip_average", False)) if flip_average is None else bool(flip_average)
        fit = bool(card.get("silhouette_fit", False)) if silhouette_fit is None else bool(silhouette_fit)
        use_prior = bool(card.get("spatial_prior", False)) if spatial_prior is None else bool(spatial_prior)
        use_fit = bool(card.get("person_fit", False)) if person_fit is None else bool(person_fit)
        # the prior acts only beside a body fitted to the front end, after the object's mask fit
        prior = _spatial_prior(spatial_prior_dir or card.get("spatial_prior_dir", "spatialprior")) \
            if (use_prior and fit and use_fit) else None
        use_contacts = bool(card.get("contact_model", False)) if contact_model is None else bool(contact_model)
        contacts = _contact_model(contact_model_dir or card.get("contact_model_dir", "contacts"), self.backend_name,
                                  threads) if use_contacts else None
        self.infer = FullBodyInference(be, self.cfg, self.classes, flip_average=flip, silhouette_fit=fit,
                                       spatial_prior=prior, contact_model=contacts)
        self.infer.anchor_weight = float(card.get("contact_anchor_weight", ANCHOR_WEIGHT))
        self.infer.prior_weight = float(card.get("spatial_prior_weight", PRIOR_WEIGHT))
        self.infer.prior_viewports = int(card.get("spatial_prior_viewports", PRIOR_VIEWPORTS))
        self.infer.prior_contact = float(card.get("spatial_prior_contact", PRIOR_CONTACT))
        if object_class is not None:
            self.infer.template(object_class)  # unknown class: error now, not per frame
        self.object_class = object_class
        self.subset = self.infer.subset
        from hoi_perception.assets import body_model

        self.faces = body_model().faces.numpy().astype(np.uint32)
        self.person = _person_fit(frontend, frontend_mode) if use_fit else None
        self._choice = ""  # which person is reconstructed and why, as last said
        # frames without an object mask: from depth or the learned segmenter ("auto"), or refused ("given")
        self.object_masks = str(object_masks or card.get("object_masks", "auto"))
        if self.object_masks not in OBJECT_MASK_MODES:
            raise ModelNotAvailable(f"object_masks must be one of {OBJECT_MASK_MODES}, got {self.object_masks!r}")
        self.segmenter = None
        if self.person is not None and self.object_masks == "auto":
            from hoi_perception.objectmask.segmenter import ObjectSegmenter

            self.segmenter = ObjectSegmenter(segmenter_dir, backend=self.backend_name, threads=threads, device=device)
        self._mask_source = ""  # where the object mask came from, as last said
        self.last_object_mask = None  # the latest frame's `ObjectMask` (for benchmarks and overlays)
        self.last_network_joints = None

    def reconstruct(self, frame: Frame) -> FullBodyResult:
        masks = [] if frame.masks is None else frame.masks
        need = 0 if self.segmenter is not None else 1 if self.person else 2
        if len(masks) < need:
            what = "the object mask (last mask; person masks optional)" if self.person else \
                "the person (one or more masks) and the object (last mask)"
            raise InputError(f"the full-body model needs instance masks: {what}; got "
                             + ("none" if frame.masks is None else f"{len(masks)} mask(s)"))
        obj = np.asarray(masks[-1]) > 0 if len(masks) else None
        human = np.any(np.asarray(masks[:-1]) > 0, axis=0) if len(masks) > 1 else None
        k = frame.intrinsics.matrix
        if self.person is None:
            res = self.infer.run(frame.image, human, obj, k, self.object_class)
            if self.infer.contact_model is not None:
                self.infer.predict_contacts(res)
            return self.to_result(frame, res, mask_source="given")
        chosen = self.person.find(frame.image, obj)
        choice = f"person track {chosen.person.track_id}: {chosen.reason}"
        if choice != self._choice:  # said once per change, not per frame
            log.info("full body: reconstructing %s", choice)
            self._choice = choice
        if human is None:
            human = chosen.mask
        found = choose_object_mask(frame.image, obj, frame.depth, human, hand_points(chosen.person, chosen.hands),
                                   self.segmenter)
        self.last_object_mask = found
        if found.mask is None:
            raise InputError(f"no object mask for this frame ({found.reason}): no full-body result")
        if found.source != self._mask_source:  # said once per change, not per frame
            log.info("full body: object mask from %s (%s)", found.source, found.reason)
            self._mask_source = found.source
        obj = found.mask
        res = self.infer.run(frame.image, human, obj, k, self.object_class, fit_object=False)
        self.last_network_joints = np.asarray(res["joints"]).copy()  # the network's own body, for benchmarks
        fit = self.person.fit(chosen, k, res, human, obj, frame.stamp_ns)
        if "body_contact_full" not in res:  # the network's contacts, on the full mesh, stay with the fitted body
            res["body_contact_full"] = self.full_mesh(res)[1]
        res.update(fitted_outputs(fit))
        if self.infer.contact_model is not None:  # on the fitted body, before the object's fit they anchor
            self.infer.predict_contacts(res)
        if self.infer.silhouette_fit:
            self.infer.fit_object(res, human, obj, k, beside_fitted_body=True)
        out = self.to_result(frame, res, chosen, fit, mask_source=found.source)
        out.objects[0].confidence *= found.confidence  # a made mask is weaker evidence than a given one
        return out

    def reset(self) -> None:
        self._choice = self._mask_source = ""
        if self.person is not None:
            self.person.reset()

    def full_mesh(self, res: dict) -> tuple[np.ndarray, np.ndarray]:
        if "body_vertices_full" in res:  # upsampled already (flip averaging, or for the fit)
            return res["body_vertices_full"], res["body_contact_full"]
        from .flip import full_body

        v, c = full_body({"body_vertices": res["body_vertices"][None], "contact": res["contact"][None]}, self.subset)
        return v[0], c[0]

    def to_result(self, frame: Frame, res: dict, chosen=None, fit=None, mask_source: str = "") -> FullBodyResult:
        verts, contact = self.full_mesh(res)
        joints = np.concatenate([res["joints"], res["hand_joints"].reshape(-1, 3)])
        go = rot6d_to_matrix(torch.as_tensor(res["body_global_orient"])[None])[0].numpy()
        pose = rot6d_to_matrix(torch.as_tensor(res["body_pose"])).numpy()
        from hoi_perception.geometry import matrix_to_axis_angle

        pose_aa = matrix_to_axis_angle(torch.as_tensor(pose)).numpy().reshape(-1)
        body = BodyState(model_id=BODY_MODEL_ID, joints=joints, part=PART_BODY, shape_params=res["body_shape"],
                         pose_params=pose_aa, pose_layout="anny51_axis_angle",
                         root_pose=Pose(res["body_transl"], quaternion_xyzw(go)), joint_set=JOINT_SET,
                         vertices=verts, vertex_contact=contact, confidence=1.0)
        hands = []
        if chosen is not None:
            body.track_id = int(chosen.person.track_id)
            # detection score, lowered by how far the fitted keypoints stay from the detected ones
            body.confidence = float(chosen.person.score * (1.0 - fit.terms["keypoints_2d"][0]))
            hands = [self.hand_state(h, res, fit) for h in chosen.hands]
        s, r, t = res["object_pose_refined"]
        pred = res["class_predicted"]
        name = res["object_class"] if pred is None else f"{pred[0]} (predicted, p={pred[1]:.2f})"
        obj = ObjectState(pose=Pose(t, quaternion_xyzw(r)), class_name=name, template_id=res["object_class"],
                          scale=np.full(3, s), vertex_contact=res.get("object_contact", res["contact"][N_BODY_V:]),
                          confidence=1.0 if pred is None else pred[1], mask_source=mask_source)
        return FullBodyResult(stamp_ns=frame.stamp_ns, frame_id=frame.frame_id, frame_index=frame.index,
                              reconstructor=self.name, bodies=[body, *hands], objects=[obj],
                              confidence=body.confidence if chosen is not None else 1.0,
                              topologies={BODY_MODEL_ID: self.faces})

    @staticmethod
    def hand_state(hand, res: dict, fit) -> BodyState:
        """A detected hand as the fitted body's hand of that side (model id says so); confidence: the
        detection's score, lowered by the fitted fingers' robust residual."""
        side = 0 if hand.side == "left" else 1
        residual = fit.terms.get(f"hand_{hand.side}_2d", [0.0])[0]
        return BodyState(model_id=f"anny_body/hand_{hand.side}", joints=res["hand_joints"][side],
                         part=PART_LEFT_HAND if side == 0 else PART_RIGHT_HAND, joint_set="hand21",
                         confidence=float(hand.score * (1.0 - residual)))


def _person_fit(frontend: str, mode: str):
    """Front end + body fitter, or ModelNotAvailable saying what is missing."""
    from hoi_perception.assets import body_model
    from hoi_perception.fitting.body_fit import BodyFitter
    from hoi_perception.fitting.pose_prior import default_pose_prior
    from hoi_perception.frontend import FrontEndUnavailable
    from hoi_perception.frontend.factory import make_frontend

    try:
        fe = make_frontend(frontend, mode=mode)
        prior = default_pose_prior()
    except (FrontEndUnavailable, FileNotFoundError, ValueError) as exc:
        raise ModelNotAvailable(f"the person fit cannot run: {exc}") from exc
    return PersonFit(fe, BodyFitter(body_model(), prior))


def _spatial_prior(where: str):
    """The spatial prior model (a folder, or a name under models/); ModelNotAvailable if it cannot load."""
    from hoi_perception.paths import models_dir
    from hoi_perception.spatialprior.prior import PriorUnavailable, SpatialPrior

    path = Path(where)
    if not path.is_absolute() and (models_dir() / where).is_dir():
        path = models_dir() / where
    try:
        return SpatialPrior.load(path)
    except PriorUnavailable as exc:
        raise ModelNotAvailable(f"the card asks for the spatial prior: {exc}") from exc


def _contact_model(where: str, backend: str, threads: int):
    """The contact model (a folder, or a name under models/) on ONNX Runtime (torch where the full body runs
    on torch); ModelNotAvailable if it cannot load."""
    from hoi_perception.contacts.model import ContactModel, ContactsUnavailable
    from hoi_perception.paths import models_dir

    path = Path(where)
    if not path.is_absolute() and (models_dir() / where).is_dir():
        path = models_dir() / where
    try:
        return ContactModel(path, backend="torch" if backend == "torch" else "onnxruntime", threads=threads)
    except (ContactsUnavailable, BackendError) as exc:
        raise ModelNotAvailable(f"the card asks for the contact model: {exc}") from exc


def build(model_dir: Path, card: dict, **options) -> FullBodyReconstructor:
    return FullBodyReconstructor(Path(model_dir), card, **options)
