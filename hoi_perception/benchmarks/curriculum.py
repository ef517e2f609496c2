"""An assistance curriculum, stage by stage: every policy a `hoi-imitate train --keep-policies`
run exported (OUT/policies/step_N), evaluated with the assistance it was trained under and
without any. "help %bw": the mean assistance force as a share of the body's weight (how much of
the motion the policy does itself). Prints one row per policy; --json adds one JSON line.

    python bench/bench_curriculum.py --run runs/walk_anneal --clip ../shared/data/mocap/deepmimic/humanoid3d_walk.txt
    hoi-perception bench curriculum --run runs/walk_anneal --clip ... --every 2 --json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="training output folder with policies/step_N")
    ap.add_argument("--clip", required=True)
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--every", type=int, default=1, help="evaluate every n-th kept policy (and the last)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    from hoi_imitation.evaluate import evaluate

    kept = sorted((Path(a.run) / "policies").glob("step_*"))
    if not kept:
        sys.exit(f"no kept policies in {a.run}/policies (train with --keep-policies)")
    kept = [p for i, p in enumerate(kept) if i % a.every == 0 or p == kept[-1]]
    rows = []
    print(f"{'step':>9s} {'assist':>6s} {'help %bw':>8s} | {'success':>7s} {'G-MPJPE mm':>10s} {'frames %':>8s} | "
          f"{'no assist: success':>18s} {'G-MPJPE mm':>10s} {'frames %':>8s}")
    for p in kept:
        row = {"step": int(p.name.split("_")[1])}
        for key, assist in (("trained", None), ("unassisted", 0.0)):
            r = evaluate(p, a.clip, episodes=a.episodes, assist=assist)
            row[key] = {"assist": r["assist"], "success_rate": r["success_rate"], "g_mpjpe_mm": r["g_mpjpe_mm"],
                        "mpjpe_mm": r["mpjpe_mm"], "frames_tracked_share": r["frames_tracked_share"],
                        "assist_force_body_weight_share": r.get("assist_force_body_weight_share", 0.0)}
        t, u = row["trained"], row["unassisted"]
        print(f"{row['step']:9d} {t['assist']:6.3f} {100 * t['assist_force_body_weight_share']:8.1f} | {t['success_rate']:7.2f} {t['g_mpjpe_mm']:10.1f} "
              f"{100 * t['frames_tracked_share']:8.1f} | {u['success_rate']:18.2f} {u['g_mpjpe_mm']:10.1f} "
              f"{100 * u['frames_tracked_share']:8.1f}")
        rows.append(row)
    if a.json:
        print(json.dumps({"bench": "curriculum", "run": str(a.run), "clip": Path(a.clip).name,
                          "episodes": a.episodes, "policies": rows}))


if __name__ == "__main__":
    main()
