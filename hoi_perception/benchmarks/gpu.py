"""The shipped networks on a CUDA GPU: latency, throughput, and agreement with the CPU.

    hoi-perception bench gpu [--json]                                  # a GPU machine with the full install
    hoi-perception bench gpu --prepare runs/gpu_inputs.npz             # any machine with the held-out data
    hoi-perception bench gpu --inputs runs/gpu_inputs.npz --json       # a GPU machine without anny / the meshes

`--prepare` writes what the timed code reads (full-body crops' source images, masks, intrinsics,
the objects' templates and meshes, the body's mirror maps; hand-object network images and
intrinsics) so that a GPU machine without the body model or the object meshes can run the
shipped inference. Figures:

* full body (models/fullbody): the network per call through the torch backend (numpy in and
  out, as the pipeline calls it) at batch 1 and at the shipped batch 2 (crop + mirror image);
  the network alone on GPU-resident tensors in fp32, fp16 autocast and CUDA-graph replay;
  images/s at larger batches; end to end per frame (`FullBodyInference.run`: crop, network,
  flip merge, silhouette fit; on the GPU the mirrored passes are upsampled there and the fit's steps
  run there, replayed as a CUDA graph; the rest on the host CPU, 1 thread);
* hand-object (models/handobject): the network passes of one clip (shipped: clip + mirrored
  clip) and the whole clip (network, marching cubes, pose refinement; host CPU for the latter);
* agreement: max |GPU - CPU| of every output (fp32 and fp16), and of the end-to-end results;
* the other GPU backends: onnxruntime's CUDA provider and TensorRT, timed where they load,
  else the reason they did not.

Median of --repeats calls after warm-up; CUDA is synchronised around every timed call.
`--device cpu` runs the same code on the CPU (a check of the script; fp16 and CUDA graphs skipped).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

FB_OUTPUTS_CM = ("body_vertices", "object_vertices", "joints", "hand_joints", "body_transl")  # metres -> cm
DEVICE = "cuda"  # --device


# --- inputs ------------------------------------------------------------------------------------
def prepare(fb_data: str, ho_data: str, scenes: int, clips: int, keyframes: int) -> dict:
    """Arrays the timed code needs, from the held-out shards (runs where the data and anny are)."""
    from hoi_perception.fullbody.flip import mirror_maps
    from hoi_perception.fullbody.training.data import view_masks
    from hoi_perception.handobject.training.data import clip_item
    from hoi_perception.synth.engine import decode_png, object_library
    from hoi_perception.synth.shards import ShardSet

    out, ids = {}, []
    fb = ShardSet(fb_data)
    for i in range(min(scenes, len(fb))):
        a, meta, _ = fb.get(i)
        human, obj = view_masks(decode_png(a["instance_0"]))
        out.update({f"fb{i}_rgb": decode_png(a["rgb_0"]), f"fb{i}_human": human, f"fb{i}_object": obj,
                    f"fb{i}_k": a["K"][0].reshape(3, 3).astype(np.float64)})
        ids.append(meta["object_id"])
    lib = object_library()
    for oid in sorted(set(ids)):
        asset = lib.get(oid)
        out.update({f"obj_{oid}_subset": asset.subset_vertices, f"obj_{oid}_vertices": asset.vertices,
                    f"obj_{oid}_faces": asset.faces})
    maps = mirror_maps()
    out.update(fb_object_ids=np.array(ids), maps_vertices=maps.vertices, maps_joints=maps.joints,
               maps_hand_joints=maps.hand_joints)
    ho = ShardSet(ho_data)
    for i in range(min(clips, len(ho))):
        a, meta, _ = ho.get(i)
        frames = list(range(min(keyframes, int(meta["frames"]))))
        item = clip_item(a, frames, with_targets=False)
        out[f"ho{i}_images"] = (item["images"][:len(frames)].transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)
        out[f"ho{i}_k"] = a["K"][frames].astype(np.float64)
    return out


class PreparedLibrary:
    """The object templates of the prepared scenes, with the library's lookups."""

    class Asset:
        def __init__(self, subset, vertices, faces):
            self.subset_vertices, self.vertices, self.faces = subset, vertices, faces

    def __init__(self, arrays: dict):
        self.assets = {str(oid): self.Asset(arrays[f"obj_{oid}_subset"], arrays[f"obj_{oid}_vertices"],
                                            arrays[f"obj_{oid}_faces"]) for oid in set(arrays["fb_object_ids"])}

    def __contains__(self, oid) -> bool:
        return oid in self.assets

    def ids(self, split: str = "all") -> list[str]:
        return sorted(self.assets)

    def get(self, oid: str):
        return self.assets[oid]


# --- timing ------------------------------------------------------------------------------------
def timed(fn, repeats: int, warmup: int = 5, cuda: bool = True) -> float:
    """Median wall time of fn() in ms, the GPU drained before and after each call."""
    import torch

    sync = torch.cuda.synchronize if cuda and DEVICE == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def max_diffs(a: dict, b: dict, cm_keys=()) -> dict:
    """max |a - b| per shared float output (cm for the named metre-valued outputs)."""
    res = {}
    for k in sorted(set(a) & set(b)):
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if x.dtype.kind == "f" and x.shape == y.shape:
            res[k] = float(np.abs(x.astype(np.float64) - y).max()) * (100.0 if k in cm_keys else 1.0)
    return res


def graph_replay(module, feeds: dict, repeats: int) -> float | str:
    """Per-call ms of a captured CUDA graph of the module (static inputs), or why capture failed."""
    import torch

    try:
        static = {k: v.clone() for k, v in feeds.items()}
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream), torch.inference_mode():
            for _ in range(3):
                module(**static)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), torch.inference_mode():
            module(**static)
        return timed(graph.replay, repeats)
    except Exception as exc:  # noqa: BLE001 - report any capture failure, keep measuring the rest
        return f"capture failed: {type(exc).__name__}: {exc}"[:300]


def network_figures(module, feeds_np: dict, batches, repeats: int) -> dict:
    """The network alone on GPU-resident inputs: fp32 / fp16 per call at batch 1, CUDA graph,
    images/s at the larger batches, and the fp16 outputs' difference from fp32."""
    import torch

    dev = {k: torch.from_numpy(v).to(DEVICE) for k, v in feeds_np.items()}
    gpu = DEVICE == "cuda"

    def call(inputs, half=False):
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16, enabled=half and gpu):
            return module(**inputs)

    res = {"fp32_ms": timed(lambda: call(dev), repeats), "fp16_autocast_ms": timed(lambda: call(dev, True), repeats)}
    res["cuda_graph_fp32_ms"] = graph_replay(module, dev, repeats) if gpu else "skipped on the CPU"
    o32 = {k: v.float().cpu().numpy() for k, v in call(dev).items()}
    o16 = {k: v.float().cpu().numpy() for k, v in call(dev, True).items()}
    res["fp16_vs_fp32_max_abs"] = max_diffs(o16, o32, FB_OUTPUTS_CM)
    for b in batches:  # b copies of the first input
        big = {k: v[:1].repeat(b, *([1] * (v.dim() - 1))) for k, v in dev.items()}
        for name, half in (("fp32", False), ("fp16", True)):
            ms = timed(lambda: call(big, half), max(5, repeats // 5), warmup=3)
            res[f"images_per_s_batch{b}_{name}"] = round(1e3 * b / ms, 1)
    return res


# --- the two models ----------------------------------------------------------------------------
def fullbody(arrays: dict, model_dir: Path, repeats: int, batches, compile_fit: bool = False) -> dict:
    from hoi_perception.backends import load_backend
    from hoi_perception.fullbody.flip import MirrorMaps
    from hoi_perception.fullbody.model import EXPORT_OUTPUTS, CrossHOI, ExportWrapper, ModelConfig
    from hoi_perception.fullbody.preprocess import make_crop
    from hoi_perception.fullbody.reconstructor import INPUT_NAMES, FullBodyInference, load_weights
    from hoi_perception.pipeline.stages import read_model_card

    card = read_model_card(model_dir)
    cfg = ModelConfig(**card["config"])
    net = CrossHOI(cfg)
    load_weights(net, model_dir / str(card.get("weights_torch", "model.safetensors")))
    module = ExportWrapper(net).eval()
    lib = PreparedLibrary(arrays)
    maps = MirrorMaps(arrays["maps_vertices"], arrays["maps_joints"], arrays["maps_hand_joints"])
    ids = [str(x) for x in arrays["fb_object_ids"]]
    scenes = [(arrays[f"fb{i}_rgb"], arrays[f"fb{i}_human"], arrays[f"fb{i}_object"], arrays[f"fb{i}_k"], ids[i])
              for i in range(len(ids))]
    rgb, human, obj, k, oid = scenes[0]
    crop = make_crop(rgb, human, obj, k, cfg.crop)
    feeds = {"image": crop.image[None], "intrinsics": crop.intrinsics[None],
             "template": lib.get(oid).subset_vertices.astype(np.float32)[None]}
    pair = {n: np.concatenate([v, v]) for n, v in feeds.items()}
    flags = dict(flip_average=bool(card.get("flip_average", False)), silhouette_fit=bool(card.get("silhouette_fit", False)))
    res = {"model": card["name"], **flags}

    # one copy of the module per device: a backend moves its module to its device
    backends = {d: load_backend("torch", torch_module=copy.deepcopy(module), input_names=INPUT_NAMES,
                                output_names=EXPORT_OUTPUTS, threads=1, device=d) for d in ("cpu", DEVICE)}
    gpu = backends[DEVICE]
    res["backend_batch1_ms"] = timed(lambda: gpu.run(feeds), repeats)
    res["backend_batch2_ms"] = timed(lambda: gpu.run(pair), repeats)
    eager = load_backend("torch", torch_module=copy.deepcopy(module), input_names=INPUT_NAMES,
                         output_names=EXPORT_OUTPUTS, device=DEVICE, cuda_graph=False)
    res["backend_batch2_eager_ms"] = timed(lambda: eager.run(pair), repeats)
    res["graph_vs_eager_max_abs"] = max_diffs(gpu.run(pair), eager.run(pair), FB_OUTPUTS_CM)
    res["network"] = network_figures(gpu.module, pair, batches, repeats)
    cpu_out, gpu_out = backends["cpu"].run(pair), gpu.run(pair)
    res["gpu_vs_cpu_max_abs"] = max_diffs(gpu_out, cpu_out, FB_OUTPUTS_CM)

    infer = {}
    for d, b in backends.items():  # on the GPU this captures the fit's steps as a CUDA graph
        t0 = time.perf_counter()
        infer[d] = FullBodyInference(b, cfg, list(card["classes"]), library=lib, maps=maps, **flags)
        res[f"inference_setup_s_{d}"] = time.perf_counter() - t0
    per_scene, pose_diff = [], []
    for rgb, human, obj, k, oid in scenes:
        per_scene.append(timed(lambda: infer[DEVICE].run(rgb, human, obj, k, oid), max(5, repeats // 5), warmup=2))
        a = infer[DEVICE].run(rgb, human, obj, k, oid)["object_pose_refined"]
        b = infer["cpu"].run(rgb, human, obj, k, oid)["object_pose_refined"]
        pose_diff.append(100 * float(np.abs(np.asarray(a[2]) - np.asarray(b[2])).max()))
    res["end_to_end_ms_per_frame"] = float(np.median(per_scene))
    res["end_to_end_scenes"] = len(scenes)
    res["end_to_end_object_translation_gpu_vs_cpu_max_cm"] = max(pose_diff)
    res["end_to_end_object_translation_gpu_vs_cpu_cm"] = [round(d, 4) for d in pose_diff]
    # what the shipped post-processing costs: the same frames without the fit, and without the mirror pass
    from hoi_perception.fullbody.silhouette_fit_torch import TorchFitter

    variants = [("numpy_fit", flags), ("no_fit", dict(flags, silhouette_fit=False)), ("no_flip_no_fit", {})]
    if compile_fit:
        variants.append(("compiled_fit", flags))
    for name, variant in variants:
        fast = FullBodyInference(backends[DEVICE], cfg, list(card["classes"]), library=lib, maps=maps, **variant)
        if name == "numpy_fit":  # the fit's steps in numpy on the host
            fast.fitter = None
        elif name == "compiled_fit":  # fused by torch.compile (experimental; compiled here)
            t0 = time.perf_counter()
            fast.fitter = TorchFitter(DEVICE, compile=True)
            res["compiled_fit_setup_s"] = time.perf_counter() - t0
        res[f"end_to_end_ms_per_frame_{name}"] = float(np.median(
            [timed(lambda: fast.run(rgb, human, obj, k, oid), max(5, repeats // 5), warmup=2)
             for rgb, human, obj, k, oid in scenes]))
    t0 = time.perf_counter()
    for rgb, human, obj, k, oid in scenes:
        make_crop(rgb, human, obj, k, cfg.crop)
    res["crop_ms_host"] = 1e3 * (time.perf_counter() - t0) / len(scenes)
    return res


def handobject(arrays: dict, model_dir: Path, repeats: int) -> dict:
    from hoi_perception.handobject.infer import HandObjectModel
    from hoi_perception.pipeline.stages import read_model_card

    card = read_model_card(model_dir)
    clips = [(arrays[f"ho{i}_images"], arrays[f"ho{i}_k"]) for i in range(1000) if f"ho{i}_images" in arrays]
    models = {d: HandObjectModel(model_dir, backend="torch", device=d, card=card) for d in ("cpu", DEVICE)}
    gpu = models[DEVICE]
    images, kmats = clips[0]
    refine = card.get("refine", "silhouette")
    res = {"model": card["name"], "frames": len(images), "flip_average": gpu.flip_average, "variant": gpu.variant,
           "network_ms_per_clip": timed(lambda: gpu.run(images, kmats), repeats)}
    eager = HandObjectModel(model_dir, backend="torch", device=DEVICE, card=card)
    eager.backend.cuda_graph = False
    res["network_ms_per_clip_eager"] = timed(lambda: eager.run(images, kmats), repeats)
    per_clip, diffs = [], []
    for images, kmats in clips:
        per_clip.append(timed(lambda: gpu.reconstruct(images, kmats, refine=refine), max(5, repeats // 5), warmup=2))
        diffs.append(max_diffs(gpu.run(images, kmats), models["cpu"].run(images, kmats)))
    res["clip_ms"] = float(np.median(per_clip))
    res["clips"] = len(clips)
    res["gpu_vs_cpu_max_abs"] = {k: max(d[k] for d in diffs) for k in diffs[0]}
    mod = gpu.backend.module
    x = {"images": np.zeros((1, 6, 3, 128, 128), np.float32), "intrinsics": np.tile([1, 1, .5, .5], (1, 6, 1)).astype(np.float32),
         "valid": np.ones((1, 6), np.float32)}  # one pass: a clip padded to 6 frame slots
    res["network"] = {k: v for k, v in network_figures(mod, x, (), repeats).items() if not k.startswith("fp16_vs")}
    return res


def other_backends(fb_dir: Path) -> dict:
    """onnxruntime on CUDA and TensorRT: per-call ms at batch 2 where they load, else the reason."""
    from hoi_perception.backends import BackendError, load_backend

    feeds = {"image": np.zeros((2, 5, 128, 128), np.float32), "intrinsics": np.tile([1.2, 1.2, .5, .5], (2, 1)).astype(np.float32),
             "template": np.zeros((2, 64, 3), np.float32)}
    res = {}
    for kind in ("onnxruntime", "tensorrt"):
        try:
            be = load_backend(kind, onnx_path=fb_dir / "model.onnx", device="cuda")
            res[kind] = {"fullbody_batch2_ms": timed(lambda: be.run(feeds), 50)}
        except BackendError as exc:
            res[kind] = f"not available: {exc}"[:300]
    return res


def environment() -> dict:
    import torch

    env = {"torch": torch.__version__, "cuda": torch.version.cuda, "host_cpu": platform.processor() or platform.machine(),
           "host_cores": os.cpu_count(), "python": platform.python_version()}
    if torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name()
    try:
        import onnxruntime as ort

        env["onnxruntime"] = f"{ort.__version__} ({', '.join(ort.get_available_providers())})"
    except ImportError:
        env["onnxruntime"] = "not installed"
    return env


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prepare", type=Path, help="write the inputs to this .npz and stop (no GPU needed)")
    ap.add_argument("--inputs", type=Path, help="inputs written by --prepare (default: prepare them now)")
    ap.add_argument("--fullbody-data", default="data/fullbody_heldout")
    ap.add_argument("--handobject-data", default="data/ho_heldout")
    ap.add_argument("--scenes", type=int, default=8)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--fullbody-model", default="fullbody")
    ap.add_argument("--handobject-model", default="handobject")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--batches", default="8,32,128", help="batches of the images/s figures")
    ap.add_argument("--out", type=Path, help="also write the JSON figures to this file")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: check the script only")
    ap.add_argument("--compile-fit", action="store_true",
                    help="also time the fit with its steps fused by torch.compile (experimental)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    global DEVICE
    DEVICE = args.device

    import torch

    from hoi_perception.pipeline.stages import read_model_card, resolve_model_dir

    torch.set_num_threads(1)  # the host side as in the CPU figures: one thread
    keyframes = int(read_model_card(resolve_model_dir(args.handobject_model)).get("keyframes", 4))
    if args.prepare:
        arrays = prepare(args.fullbody_data, args.handobject_data, args.scenes, args.clips, keyframes)
        args.prepare.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.prepare, **arrays)
        print(f"wrote {args.prepare} ({args.prepare.stat().st_size / 1e6:.1f} MB)")
        return 0
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print("bench gpu: torch sees no CUDA GPU on this machine (run --prepare here, the benchmark on a GPU machine)",
              file=sys.stderr)
        return 1
    arrays = dict(np.load(args.inputs)) if args.inputs else prepare(
        args.fullbody_data, args.handobject_data, args.scenes, args.clips, keyframes)
    batches = [int(b) for b in args.batches.split(",") if b]
    results = {"environment": environment()}
    fb_dir = resolve_model_dir(args.fullbody_model)
    results["fullbody"] = fullbody(arrays, fb_dir, args.repeats, batches, args.compile_fit)
    results["handobject"] = handobject(arrays, resolve_model_dir(args.handobject_model), args.repeats)
    results["other_backends"] = other_backends(fb_dir)
    report(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    if args.json:
        print(json.dumps(results))
    return 0


def ms(value) -> str:
    """A time in ms, or the reason there is none."""
    return value if isinstance(value, str) else f"{value:.2f} ms"


def report(r: dict) -> None:
    e, fb, ho = r["environment"], r["fullbody"], r["handobject"]
    print(f"GPU {e.get('gpu')} (torch {e['torch']}, CUDA {e['cuda']}); host {e['host_cores']} cores, post-processing 1 thread")
    n = fb["network"]
    print(f"full body ({fb['model']}): network via the torch backend (CUDA graphs where capturable) "
          f"{fb['backend_batch1_ms']:.2f} ms at batch 1, {fb['backend_batch2_ms']:.2f} ms at batch 2 (shipped: crop + "
          f"mirror; eager {fb['backend_batch2_eager_ms']:.2f} ms)")
    print(f"  network alone, batch 2 (crop + mirror): fp32 {n['fp32_ms']:.2f} ms, fp16 {n['fp16_autocast_ms']:.2f} ms, "
          f"CUDA graph fp32 {ms(n['cuda_graph_fp32_ms'])}")
    print("  images/s: " + ", ".join(f"{k[len('images_per_s_'):]} {v:.0f}" for k, v in n.items() if k.startswith("images_per_s")))
    print(f"  end to end per frame (crop, network, flip merge, silhouette fit): {fb['end_to_end_ms_per_frame']:.1f} ms "
          f"-> {1e3 / fb['end_to_end_ms_per_frame']:.0f} frames/s (median of {fb['end_to_end_scenes']} scenes)")
    print(f"  with the fit's steps in numpy on the host instead {fb['end_to_end_ms_per_frame_numpy_fit']:.1f} ms, "
          f"without the silhouette fit {fb['end_to_end_ms_per_frame_no_fit']:.1f} ms, without fit and mirror pass "
          f"{fb['end_to_end_ms_per_frame_no_flip_no_fit']:.1f} ms; object translation GPU vs CPU after the fit: max "
          f"{fb['end_to_end_object_translation_gpu_vs_cpu_max_cm']:.2f} cm")
    if "end_to_end_ms_per_frame_compiled_fit" in fb:
        print(f"  with the fit's steps fused by torch.compile (experimental) {fb['end_to_end_ms_per_frame_compiled_fit']:.1f} ms "
              f"(compiling took {fb['compiled_fit_setup_s']:.1f} s)")
    print("  GPU vs CPU max |diff|: " + ", ".join(f"{k} {v:.2g}" for k, v in fb["gpu_vs_cpu_max_abs"].items())
          + " (vertices/joints in cm)")
    print("  fp16 vs fp32 max |diff|: " + ", ".join(f"{k} {v:.2g}" for k, v in n["fp16_vs_fp32_max_abs"].items()))
    print(f"hand-object ({ho['model']}, {ho['frames']} frames, flip average {ho['flip_average']}): network passes "
          f"{ho['network_ms_per_clip']:.1f} ms per clip (eager {ho['network_ms_per_clip_eager']:.1f}), whole clip {ho['clip_ms']:.1f} ms (median of {ho['clips']} clips)")
    print("  GPU vs CPU max |diff|: " + ", ".join(f"{k} {v:.2g}" for k, v in ho["gpu_vs_cpu_max_abs"].items()))
    print(f"  network alone (one pass, 6 frame slots): fp32 {ho['network']['fp32_ms']:.2f} ms, fp16 "
          f"{ho['network']['fp16_autocast_ms']:.2f} ms, CUDA graph fp32 {ms(ho['network']['cuda_graph_fp32_ms'])}")
    for kind, v in r["other_backends"].items():
        print(f"{kind}: {v}")


if __name__ == "__main__":
    raise SystemExit(main())
