"""Summarizes a `kiln exec --dumpProfile` log with the engine's `--exportLayerInfo` JSON: GPU time
per layer kind and tactic, most first, so a device run's table shows where the time goes."""
import collections
import json
import re
import sys


def main(profile_log, layers_json, top=8):
    layers = {layer["name"]: layer for layer in json.load(open(layers_json))["layers"]}
    per_kind = collections.Counter()
    total = 0.0
    for line in open(profile_log):
        m = re.match(r"\[I\] (\S+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$", line.strip())
        if not m or m.group(1) == "Total":
            continue
        layer = layers.get(m.group(1), {})
        key = f"{layer.get('kind', '?')} [{layer.get('tactic', '?')}, {layer.get('precision', '?')}]"
        per_kind[key] += float(m.group(3))  # average ms per run
        total += float(m.group(3))
    print(f"profile: {total:.3f} ms per run over {len(layers)} layers")
    for key, ms in per_kind.most_common(top):
        print(f"  {ms:8.3f} ms {100 * ms / max(total, 1e-9):5.1f}%  {key}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
