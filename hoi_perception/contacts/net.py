"""The contact network: render-localize-lift (paper 003) at robot size.

1. A contact token from the image: a small CNN over the full-body crop (RGB and the person and object
   masks, `fullbody.preprocess.make_crop`), the body's and hands' 64 2D joints in the crop and the object's kind
   (one-hot; the last slot is "unknown", trained by dropping the kind, for class-agnostic contacts).
   Two tokens come out, one for the body and one for the object (paper: <HCON>, <OCON>).
2. FeatLift: each token made view-aware by a small network over the render camera's axes.
3. Decoders: a render encoder turns each canvas view (`canonical.py`: normal-coloured star-pose body,
   NOCS-coloured object) into pixel embeddings; a small network turns the view's token into a weight
   vector whose dot product with each pixel's embedding is that pixel's contact logit (SAM's mask head).
4. Lift: per vertex the weighted mean of the logits of the pixels that see it (`canonical.LiftTable`).
5. Fusion (ours, not the paper's): each lifted logit is corrected by a small network over the vertex's
   image evidence: where the posed body's vertex projects relative to the object's mask (and the posed
   object's point relative to the person's mask), `evidence.py`. Contact 5 cm away shows in 2D: a body
   vertex far from the object's mask in the image cannot touch it. Masks and a posed body are what real
   cameras give through the front end and the fit, as renders do.

The body canvas is the same for every input, so its render features are a constant of the exported graph.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

N_JOINTS = 64  # the body's 22 joints, then the left and right hands' 21 (fullbody network order)
N_EVIDENCE = 2  # per vertex: inside the other's mask, distance to it (`evidence.py`)
CAMERA_CODE = 9


@dataclass
class ContactNetConfig:
    kinds: tuple[str, ...] = ()
    crop: int = 96  # the full-body network's crop: one crop serves both
    token: int = 128
    body_features: int = 48
    object_features: int = 24

    def to_dict(self) -> dict:
        return {**asdict(self), "kinds": list(self.kinds)}

    @classmethod
    def from_dict(cls, d: dict) -> ContactNetConfig:
        return cls(**{**d, "kinds": tuple(d.get("kinds", ()))})


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(min(8, cout // 4), cout), nn.ReLU(inplace=True))


class ImageEncoder(nn.Module):
    """Crop (5, S, S), joints (64, 2) in [0, 1] crop units, kind one-hot -> body and object tokens."""

    def __init__(self, cfg: ContactNetConfig) -> None:
        super().__init__()
        widths = (32, 64, 96, 128, 192)
        layers, cin = [], 5
        for i, w in enumerate(widths):
            # a second layer only where the grid is small (the cost of the large grids is the CPU budget)
            layers += [_conv(cin, w, 2)] + ([_conv(w, w)] if i >= 2 else [])
            cin = w
        self.cnn = nn.Sequential(*layers)
        grid = cfg.crop // 2 ** len(widths)
        n_kind = len(cfg.kinds) + 1
        self.fuse = nn.Sequential(nn.Linear(cin * grid * grid + 2 * N_JOINTS + n_kind, 256), nn.ReLU(inplace=True),
                                  nn.Linear(256, 256), nn.ReLU(inplace=True))
        # the projection to the two contact tokens (paper: Gamma, 2 layers of 256)
        self.body_token = nn.Linear(256, cfg.token)
        self.object_token = nn.Linear(256, cfg.token)

    def forward(self, image, joints_2d, kind):
        f = self.cnn(image).flatten(1)
        h = self.fuse(torch.cat([f, joints_2d.flatten(1), kind], 1))
        return self.body_token(h), self.object_token(h)


class FeatLift(nn.Module):
    """A token and the render cameras -> one view-aware token per view (B, J, T): the token plus a
    correction from a small network over the token and the camera's axes."""

    def __init__(self, token: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(token + CAMERA_CODE, 128), nn.ReLU(inplace=True), nn.Linear(128, token))

    def forward(self, token, cameras):
        b, j = token.shape[0], cameras.shape[-2]
        t = token[:, None].expand(b, j, token.shape[1])
        return t + self.net(torch.cat([t, cameras.expand(b, j, CAMERA_CODE)], -1))


class RenderEncoder(nn.Module):
    """Canvas views (N, 4, S, S) -> pixel features (N, C, S, S): a two-level U-Net."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.d0 = _conv(4, width)
        self.d1 = _conv(width, 2 * width, 2)
        self.d2 = nn.Sequential(_conv(2 * width, 4 * width, 2), _conv(4 * width, 4 * width))
        self.u1 = _conv(6 * width, 2 * width)
        self.u0 = nn.Sequential(_conv(3 * width, channels), nn.Conv2d(channels, channels, 1))

    def forward(self, x):
        a = self.d0(x)
        b = self.d1(a)
        c = self.d2(b)
        b = self.u1(torch.cat([b, F.interpolate(c, scale_factor=2.0, mode="nearest")], 1))
        return self.u0(torch.cat([a, F.interpolate(b, scale_factor=2.0, mode="nearest")], 1))


class PixelDecoder(nn.Module):
    """A view's token and the canvas's pixel embeddings -> one contact logit per pixel: the token is turned
    into a weight vector dotted with each pixel's embedding (the mask head of SAM, paper 003's decoder)."""

    def __init__(self, token: int, channels: int) -> None:
        super().__init__()
        self.hyper = nn.Sequential(nn.Linear(token, 128), nn.ReLU(inplace=True), nn.Linear(128, channels + 1))

    def forward(self, embeddings, view_tokens):
        # embeddings (B or 1, J, C, S, S); view_tokens (B, J, T) -> (B, J, S, S)
        w = self.hyper(view_tokens)
        return torch.einsum("bjc,bjcyx->bjyx", w[..., :-1], embeddings.expand(w.shape[0], -1, -1, -1, -1)) + w[..., -1:, None]


def lift(pixel_logits, index, weight):
    """(B, J, S, S) logits -> (B, V) per-vertex means; index/weight (V, W) shared or (B, V, W) per item."""
    flat = pixel_logits.flatten(1)
    if index.dim() == 2:
        return (flat[:, index] * weight).sum(-1)
    b, v, w = index.shape
    return (torch.gather(flat, 1, index.reshape(b, v * w)).reshape(b, v, w) * weight).sum(-1)


class VertexFusion(nn.Module):
    """The lifted logit and the vertex's image evidence (`evidence.py`) -> the vertex's final logit: the
    lifted one plus a correction. Starts as the identity (last layer zero)."""

    def __init__(self, n_evidence: int = N_EVIDENCE, hidden: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1 + n_evidence, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))
        nn.init.zeros_(self.net[2].weight)
        nn.init.zeros_(self.net[2].bias)

    def forward(self, logits, evidence):
        return logits + self.net(torch.cat([logits[..., None], evidence], -1))[..., 0]


class ContactNet(nn.Module):
    """Image -> per-vertex contact logits on anny's full mesh and on the object template's subset vertices.

    The body canvas (images, cameras, lift table) is registered at construction and saved with the
    weights; the object canvas comes with each call (it depends on the template)."""

    def __init__(self, cfg: ContactNetConfig, body_images, body_cameras, body_index, body_weight, object_cameras) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = ImageEncoder(cfg)
        self.body_lift = FeatLift(cfg.token)
        self.object_lift = FeatLift(cfg.token)
        self.body_render = RenderEncoder(cfg.body_features, 16)
        self.object_render = RenderEncoder(cfg.object_features, 8)
        self.body_decoder = PixelDecoder(cfg.token, cfg.body_features)
        self.object_decoder = PixelDecoder(cfg.token, cfg.object_features)
        self.body_fusion = VertexFusion()
        self.object_fusion = VertexFusion()
        self.register_buffer("body_images", torch.as_tensor(body_images, dtype=torch.float32))
        self.register_buffer("body_cameras", torch.as_tensor(body_cameras, dtype=torch.float32))
        self.register_buffer("body_index", torch.as_tensor(body_index, dtype=torch.long))
        self.register_buffer("body_weight", torch.as_tensor(body_weight, dtype=torch.float32))
        self.register_buffer("object_cameras", torch.as_tensor(object_cameras, dtype=torch.float32))

    def train(self, mode: bool = True):
        self._body_cache = None  # the weights may change: render the body's embeddings anew
        return super().train(mode)

    def body_embeddings(self) -> torch.Tensor:
        """(1, Jb, C, S, S) the body canvas's pixel embeddings: the same for every item, kept once in eval mode."""
        if self.training or getattr(self, "_body_cache", None) is None:
            emb = self.body_render(self.body_images)[None]
            if self.training:
                return emb
            self._body_cache = emb.detach()
        return self._body_cache

    def forward(self, image, joints_2d, kind, object_images, object_index, object_weight, body_evidence,
                object_evidence, object_of=None) -> dict:
        """object_images (B, J, 4, S, S) per item; in training (U, J, 4, S, S) per distinct object with
        `object_of` (B,) the row of each item's object, so that each object's render features are made once.
        body_evidence (B, V, 2) and object_evidence (B, 64, 2): each vertex's image evidence (`evidence.py`)."""
        body_token, object_token = self.encoder(image, joints_2d, kind)
        body_emb = self.body_embeddings()
        body_pix = self.body_decoder(body_emb, self.body_lift(body_token, self.body_cameras))
        u, jo, so = object_images.shape[0], object_images.shape[1], object_images.shape[-1]
        obj_emb = self.object_render(object_images.reshape(u * jo, 4, so, so))
        obj_emb = obj_emb.reshape(u, jo, *obj_emb.shape[1:])
        if object_of is not None:
            obj_emb = obj_emb[object_of]
        obj_pix = self.object_decoder(obj_emb, self.object_lift(object_token, self.object_cameras))
        body_lifted = lift(body_pix, self.body_index, self.body_weight)
        obj_lifted = lift(obj_pix, object_index, object_weight)
        return {"body_pixels": body_pix, "object_pixels": obj_pix, "body_lifted": body_lifted, "object_lifted": obj_lifted,
                "body_logits": self.body_fusion(body_lifted, body_evidence),
                "object_logits": self.object_fusion(obj_lifted, object_evidence)}


def kind_one_hot(kinds: tuple[str, ...], kind: str | None) -> torch.Tensor:
    """(K + 1,) one-hot of a kind; an unknown kind (or None) sets the last slot: class-agnostic contacts."""
    v = torch.zeros(len(kinds) + 1)
    v[kinds.index(kind) if kind in kinds else len(kinds)] = 1.0
    return v
