"""Summarizes a `kiln exec --dumpProfile` log with the engine's `--exportLayerInfo` JSON: GPU time
per layer kind and tactic, most first, so a device run's table shows where the time goes."""
import collections
import json
import re
import sys


def main(profile_log, layers_json, top=8):
    layers = {layer["name"]: layer for layer in json.load(open(layers_json))["layers"]}
    per_kind = collections.Counter()
    per_layer = {}
    total = 0.0
    for line in open(profile_log):
        m = re.match(r"\[I\] (\S+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$", line.strip())
        if not m or m.group(1) == "Total":
            continue
        layer = layers.get(m.group(1), {})
        key = f"{layer.get('kind', '?')} [{layer.get('tactic', '?')}, {layer.get('precision', '?')}]"
        per_kind[key] += float(m.group(3))  # average ms per run
        per_layer[m.group(1)] = float(m.group(3))
        total += float(m.group(3))
    print(f"profile: {total:.3f} ms per run over {len(layers)} layers")
    for key, ms in per_kind.most_common(top):
        print(f"  {ms:8.3f} ms {100 * ms / max(total, 1e-9):5.1f}%  {key}")
    print("slowest layers:")
    for name, ms in sorted(per_layer.items(), key=lambda item: -item[1])[:top]:
        layer = layers.get(name, {})
        shape = layer.get("outputs", [{}])[0].get("shape", "?") if layer.get("outputs") else "?"
        print(f"  {ms:8.3f} ms  {name} [{layer.get('tactic', '?')}] -> {shape}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
