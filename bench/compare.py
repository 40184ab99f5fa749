#!/usr/bin/python3
"""fastintent beside fastText on the same data, in one run, with the ratios.

    bench/compare.py --model MODEL.fim --train TRAIN TEST [--seconds S] [--precision int8]
    bench/compare.py --model MODEL.fim --fasttext-model FT.bin TEST

Runs `fastintent bench -m MODEL TEST --json` and bench/fasttext_peer on TEST (fastText trained
in-process on TRAIN with --settings and saved to a temporary .bin first, so that its measuring
run's peak RSS is the loaded model's, not training's; or FT.bin as given), one after the other,
and prints their figures side by side. "fastintent advantage" is how many times better
fastintent is: fastText's latency / ours, our throughput / fastText's; accuracy is compared in
points. Both programs time single calls the same way (nearest-rank percentiles, clock cost
subtracted); see the top of tools/bench_cmd.cc and bench/fasttext_peer.cc for what each call
covers. On a shared machine run it a few times and compare ratios within one run.
`--precision int8` quantises a float32 file as it loads (its peak RSS counts the float32 weights
too); for int8 figures with the file's size, give a model written by `fastintent quantize`.

Needs only the standard library (any python3). The peer is built where Debian's libfasttext-dev
is installed (scripts/setup.sh): cmake --build --preset release --target fasttext_peer
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, JSON field, format, True when lower is better)
ROWS = [
    ("featurise p50 (us)", "featurize_p50_us", "{:.2f}", True),
    ("single p50 (us)", "single_p50_us", "{:.2f}", True),
    ("single p90 (us)", "single_p90_us", "{:.2f}", True),
    ("single p99 (us)", "single_p99_us", "{:.2f}", True),
    ("single mean (us)", "single_mean_us", "{:.2f}", True),
    ("batch 1 thread (texts/s)", "batch_per_s_1t", "{:.0f}", False),
    ("batch 2 threads (texts/s)", "batch_per_s_2t", "{:.0f}", False),
    ("peak RSS (MB)", "peak_rss_mb", "{:.1f}", True),
    ("model file (MB)", "model_mb", "{:.1f}", True),
]


def run_json(argv):
    """Runs argv and returns its stdout parsed as JSON; exits with its stderr on failure."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as e:
        sys.exit(f"compare.py: cannot run {argv[0]}: {e}")
    if p.returncode != 0:
        sys.exit(f"compare.py: {' '.join(argv)} failed (exit {p.returncode}):\n{p.stderr.decode()}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        sys.exit(f"compare.py: {argv[0]} printed no JSON object ({e})")


def advantage(ours, theirs, lower_is_better):
    """How many times better ours is than theirs, or None when either is missing or not > 0."""
    if not isinstance(ours, (int, float)) or not isinstance(theirs, (int, float)):
        return None
    if ours <= 0 or theirs <= 0:
        return None
    return theirs / ours if lower_is_better else ours / theirs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test", help="labelled test data (.jsonl, .csv or fastText format)")
    ap.add_argument("--model", required=True, help="the fastintent model (.fim)")
    ap.add_argument("--train", help="training data for fastText (the split the model was trained on)")
    ap.add_argument("--fasttext-model", help="a trained fastText .bin instead of --train")
    ap.add_argument("--settings", help="fastText training flags (default: fasttext_peer's)")
    ap.add_argument("--seconds", type=float, default=1.0, help="minimum duration of each timed phase")
    ap.add_argument("--precision", default="stored", help="fastintent bench --precision")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/release/tools/fastintent"),
                    help="the fastintent CLI")
    ap.add_argument("--peer", default=os.path.join(ROOT, "build/release/bench/fasttext_peer"),
                    help="the fastText peer")
    ap.add_argument("--json", action="store_true", help="print one JSON object with both results")
    a = ap.parse_args()
    if (a.train is None) == (a.fasttext_model is None):
        ap.error("give either --train or --fasttext-model")
    if not os.access(a.peer, os.X_OK):
        sys.exit(f"compare.py: {a.peer} not found: it is built where libfasttext-dev is installed "
                 "(scripts/setup.sh), with cmake --build --preset release --target fasttext_peer")
    seconds = ["--seconds", str(a.seconds)]

    with tempfile.TemporaryDirectory(prefix="fastintent-compare-") as tmp:
        trained = None
        ft_model = a.fasttext_model
        if ft_model is None:
            ft_model = os.path.join(tmp, "fasttext.bin")
            if not a.json:
                print(f"training fastText on {a.train} ...", file=sys.stderr)
            argv = [a.peer, "--train", a.train, "-o", ft_model, "--json"]
            if a.settings is not None:
                argv += ["--settings", a.settings]
            trained = run_json(argv)
        if not a.json:
            print("measuring fastintent ...", file=sys.stderr)
        ours = run_json([a.bin, "bench", "-m", a.model, a.test, "--json", "--precision", a.precision] + seconds)
        if a.precision == "stored":  # else the file is not the model measured
            ours["model_mb"] = os.path.getsize(a.model) / (1 << 20)
        if not a.json:
            print("measuring fastText ...", file=sys.stderr)
        theirs = run_json([a.peer, "--model", ft_model, a.test, "--json"] + seconds)
    if trained is not None:
        theirs["train_s"] = trained["train_s"]
        theirs["settings"] = trained["settings"]
        theirs["model"] = f"(trained on {a.train})"

    ratios = {key: advantage(ours.get(key), theirs.get(key), low) for _, key, _, low in ROWS}
    if a.json:
        print(json.dumps({"fastintent": ours, "fasttext": theirs, "fastintent_advantage": ratios}, indent=2))
        return 0

    print(f"{a.test} ({ours['examples']} texts); fastintent {a.model} ({ours['precision']} weights, "
          f"SIMD {ours['simd_target']}); fastText {theirs['model']}"
          + (f", settings: {theirs['settings']}" if "settings" in theirs else ""))
    print()
    print(f"{'':28} {'fastintent':>12} {'fastText':>12} {'fastintent advantage':>21}")
    acc_ours, acc_theirs = ours["accuracy"], theirs["accuracy"]
    print(f"{'top-1 accuracy':28} {acc_ours:12.4f} {acc_theirs:12.4f} "
          f"{f'{100 * (acc_ours - acc_theirs):+.2f} pt':>21}")
    for label, key, fmt, _ in ROWS:
        cell = lambda d: fmt.format(d[key]) if isinstance(d.get(key), (int, float)) else "-"
        r = ratios[key]
        print(f"{label:28} {cell(ours):>12} {cell(theirs):>12} {(f'{r:.1f}x' if r else ''):>21}")
    print(f"\ntimer overhead subtracted: {ours['timer_overhead_ns']:.0f} ns (fastintent), "
          f"{theirs['timer_overhead_ns']:.0f} ns (fastText) per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
