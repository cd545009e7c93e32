#!/usr/bin/env python3
"""Writes the binary files of the bad-input catalog: malformed plans (plans/*.plan), .npy
weight files (networks/*.npy), a symbolic link leaving the networks' folder, and malformed ONNX
models (models/*.onnx, with the external data files some of them name). The JSON networks and
manifest.txt are written by hand.

    tests/bad_inputs/make_bad_inputs.py <kiln binary>
    tests/bad_inputs/make_bad_inputs.py --onnx-only   (models/ only; needs no kiln binary)

The plans are derived from one good plan that `kiln build` makes from BASE_NETWORK, so rerun
this after a change of the plan format (docs/plan-format.md) and commit the result. Most bad
plans carry correct checksums, so the reader's later checks (counts, ids, shapes, memory) are
what refuses them, not the checksum.
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "plans")
NETWORKS = os.path.join(HERE, "networks")
MODELS = os.path.join(HERE, "models")

# x + c -> sum -> relu -> y: an input, a constant (weights), an activation in the arena, and an
# output, in two layers.
BASE_NETWORK = {
    "name": "base",
    "inputs": [{"name": "x", "type": "float32", "shape": [2, 3]}],
    "layers": [
        {"name": "c", "type": "constant", "shape": [2, 3], "values": [1, 2, 3, 4, 5, 6]},
        {"name": "sum", "type": "elementwise", "inputs": ["x", "c"], "operation": "sum"},
        {"name": "y", "type": "activation", "inputs": ["sum"], "activation_type": "relu"},
    ],
    "outputs": ["y"],
}

MASK = (1 << 64) - 1


def checksum64(data):
    """src/plan/checksum.cpp."""
    prime = 0x9E3779B97F4A7C15
    h = 0xCBF29CE484222325 ^ ((len(data) * prime) & MASK)
    i = 0
    while i + 8 <= len(data):
        (word,) = struct.unpack_from("<Q", data, i)
        h = ((h ^ word) * prime) & MASK
        h ^= h >> 29
        i += 8
    tail = int.from_bytes(data[i:] + bytes(8 - (len(data) - i)), "little") if i < len(data) else 0
    h = ((h ^ tail) * prime) & MASK
    h ^= h >> 32
    return h


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def get(self, fmt):
        (v,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.get("I")
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s


class Writer:
    def __init__(self):
        self.out = bytearray()

    def put(self, fmt, v):
        self.out += struct.pack("<" + fmt, v)

    def string(self, s):
        b = s.encode()
        self.put("I", len(b))
        self.out += b


ATTR_FORMATS = {0: "q", 1: "d", 2: "s", 3: "q*", 4: "d*"}


def read_graph(data):
    r = Reader(data)
    g = {"name": r.string(), "values": [], "nodes": []}
    for _ in range(r.get("I")):
        v = {"name": r.string(), "dtype": r.get("i")}
        v["dims"] = [r.get("q") for _ in range(r.get("i"))]
        v["producer"], v["producer_output"] = r.get("i"), r.get("i")
        v["constant"] = r.get("B")  # 0: activation, 1: constant with bytes, 2: absorbed
        if v["constant"] == 1:
            v["offset"], v["size"] = r.get("Q"), r.get("Q")
        g["values"].append(v)
    for _ in range(r.get("I")):
        n = {"name": r.string(), "op": r.string(), "attrs": []}
        for _ in range(r.get("I")):
            name, tag = r.string(), r.get("B")
            fmt = ATTR_FORMATS[tag]
            if fmt == "s":
                value = r.string()
            elif fmt.endswith("*"):
                value = [r.get(fmt[0]) for _ in range(r.get("I"))]
            else:
                value = r.get(fmt)
            n["attrs"].append([name, tag, value])
        n["inputs"] = [r.get("i") for _ in range(r.get("I"))]
        n["outputs"] = [r.get("i") for _ in range(r.get("I"))]
        n["fused"] = [r.string() for _ in range(r.get("I"))]
        n["precision"] = r.get("i")
        n["output_types"] = [r.get("i") for _ in n["outputs"]]
        g["nodes"].append(n)
    g["inputs"] = [r.get("i") for _ in range(r.get("I"))]
    g["outputs"] = [r.get("i") for _ in range(r.get("I"))]
    assert r.pos == len(data)
    return g


def write_graph(g):
    w = Writer()
    w.string(g["name"])
    w.put("I", len(g["values"]))
    for v in g["values"]:
        w.string(v["name"])
        w.put("i", v["dtype"])
        w.put("i", len(v["dims"]))
        for d in v["dims"]:
            w.put("q", d)
        w.put("i", v["producer"])
        w.put("i", v["producer_output"])
        w.put("B", v["constant"])
        if v["constant"] == 1:
            w.put("Q", v["offset"])
            w.put("Q", v["size"])
    w.put("I", len(g["nodes"]))
    for n in g["nodes"]:
        w.string(n["name"])
        w.string(n["op"])
        w.put("I", len(n["attrs"]))
        for name, tag, value in n["attrs"]:
            w.string(name)
            w.put("B", tag)
            fmt = ATTR_FORMATS.get(tag, "q")
            if fmt == "s":
                w.string(value)
            elif fmt.endswith("*"):
                w.put("I", len(value))
                for x in value:
                    w.put(fmt[0], x)
            else:
                w.put(fmt, value)
        for key in ("inputs", "outputs"):
            w.put("I", len(n[key]))
            for x in n[key]:
                w.put("i", x)
        w.put("I", len(n["fused"]))
        for s in n["fused"]:
            w.string(s)
        w.put("i", n["precision"])
        for t in n["output_types"]:
            w.put("i", t)
    for key in ("inputs", "outputs"):
        w.put("I", len(g[key]))
        for x in g[key]:
            w.put("i", x)
    return bytes(w.out)


def read_plan(data):
    r = Reader(data)
    p = {"magic": data[:8]}
    r.pos = 8
    p["version"] = r.get("I")
    r.get("I")
    r.get("Q")
    p["library"] = r.string()
    p["device"] = r.get("i")
    p["device_name"] = r.string()
    p["isa"] = [r.string() for _ in range(r.get("I"))]
    p["capability"] = r.get("i")
    p["flags"] = r.get("Q")
    p["sections"] = []
    for _ in range(r.get("I")):
        sid, _reserved, offset, length, _sum = (r.get("I"), r.get("I"), r.get("Q"), r.get("Q"),
                                               r.get("Q"))
        p["sections"].append([sid, data[offset:offset + length]])
    return p


def entries(data):
    """(table position, id, offset, length) of each section table entry of plan bytes."""
    r = Reader(data)
    r.pos = 24
    r.string()
    r.get("i")
    r.string()
    for _ in range(r.get("I")):
        r.string()
    r.get("i")
    r.get("Q")
    out = []
    for _ in range(r.get("I")):
        at = r.pos
        sid, _reserved, offset, length, _sum = (r.get("I"), r.get("I"), r.get("Q"), r.get("Q"),
                                               r.get("Q"))
        out.append((at, sid, offset, length))
    return out


def patch_entry(data, index, offset):
    """Moves section @p index to @p offset in the table, with the checksums a writer would give."""
    out = bytearray(data)
    at, _sid, _old, length = entries(data)[index]
    body = bytes(out[offset:offset + length])
    struct.pack_into("<QQQ", out, at + 8, offset, length, checksum64(body))
    (header_length,) = struct.unpack_from("<I", out, 12)
    struct.pack_into("<Q", out, header_length - 8, checksum64(bytes(out[:header_length - 8])))
    return bytes(out)


def write_plan(p, padding=b"\0"):
    """Lays the plan out as src/plan/plan_writer.cpp does, checksums included."""
    h = Writer()
    h.out += p["magic"]
    h.put("I", p["version"])
    h.put("I", 0)
    h.put("Q", 0)
    h.string(p["library"])
    h.put("i", p["device"])
    h.string(p["device_name"])
    h.put("I", len(p["isa"]))
    for s in p["isa"]:
        h.string(s)
    h.put("i", p["capability"])
    h.put("Q", p["flags"])
    h.put("I", len(p["sections"]))
    table = len(h.out)
    h.out += bytes(32 * len(p["sections"]))
    header_length = len(h.out) + 8
    offsets, end = [], header_length
    for _, body in p["sections"]:
        end = (end + 63) // 64 * 64
        offsets.append(end)
        end += len(body)
    struct.pack_into("<IQ", h.out, 12, header_length, end)
    for i, (sid, body) in enumerate(p["sections"]):
        struct.pack_into("<IIQQQ", h.out, table + 32 * i, sid, 0, offsets[i], len(body),
                         checksum64(body))
    h.put("Q", checksum64(bytes(h.out)))
    out = bytearray(h.out)
    for offset, (_, body) in zip(offsets, p["sections"]):
        out += padding * (offset - len(out))
        out += body
    return bytes(out)


def section(p, sid):
    return next(s for s in p["sections"] if s[0] == sid)


def with_graph(p, edit):
    """A copy of plan @p p whose graph section is edited by @p edit(graph)."""
    q = json.loads(json.dumps({k: v for k, v in p.items() if k not in ("magic", "sections")}))
    q["magic"] = p["magic"]
    q["sections"] = [[sid, body] for sid, body in p["sections"]]
    g = read_graph(section(q, 1)[1])
    edit(g)
    section(q, 1)[1] = write_graph(g)
    return q


def copy_plan(p):
    return with_graph(p, lambda g: None)


def value_id(g, name):
    return next(i for i, v in enumerate(g["values"]) if v["name"] == name)


def plan_node(g, op):
    return next(n for n in g["nodes"] if n["op"] == op)


def build_base_plan(kiln):
    with tempfile.TemporaryDirectory() as tmp:
        net = os.path.join(tmp, "base.json")
        plan = os.path.join(tmp, "base.plan")
        with open(net, "w") as f:
            json.dump(BASE_NETWORK, f)
        # Two layers (the sum in the arena between them): no pointwise fusion.
        subprocess.run([kiln, "build", "--network=" + net, "--saveEngine=" + plan,
                        "--disablePasses=pointwise-fusion"], check=True, stdout=subprocess.DEVNULL)
        with open(plan, "rb") as f:
            return f.read()


def npy(descr, shape, payload, version=1):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H", len(header)) + \
        header.encode() + payload


def plans(base):
    p = read_plan(base)
    assert write_plan(p) == base, "the plan layout changed: update make_bad_inputs.py"
    g = read_graph(section(p, 1)[1])
    x, c, y = value_id(g, "x"), value_id(g, "Constant_0.weights"), value_id(g, "y")
    s = value_id(g, "sum")
    rng = random.Random(10)
    out = {}

    # Damaged files: checksums and lengths no longer match.
    out["empty"] = b""
    out["too_small"] = b"KILNPLAN\1\0\0"
    out["wrong_magic"] = b"ONNXPLAN" + base[8:]
    out["random_bytes"] = bytes(rng.randrange(256) for _ in range(600))
    out["json_text"] = json.dumps(BASE_NETWORK).encode()
    out["truncated_half"] = base[: len(base) // 2]
    out["truncated_last_byte"] = base[:-1]
    out["trailing_bytes"] = base + bytes(16)
    flipped = bytearray(base)
    flipped[0x2C] ^= 0x01  # in the device name
    out["flipped_header_byte"] = bytes(flipped)
    flipped = bytearray(base)
    flipped[-3] ^= 0x40  # in the weights
    out["flipped_weights_byte"] = bytes(flipped)
    flipped = bytearray(base)
    flipped[0x110] ^= 0x10  # in the graph section
    out["flipped_graph_byte"] = bytes(flipped)
    bad = bytearray(base)
    struct.pack_into("<I", bad, 12, 0xFFFFFFFF)
    out["header_length_huge"] = bytes(bad)

    # Header problems behind a correct checksum.
    q = copy_plan(p)
    q["version"] = p["version"] + 1
    out["newer_version"] = write_plan(q)
    q = copy_plan(p)
    q["version"] = p["version"] - 1
    out["older_version"] = write_plan(q)
    q = copy_plan(p)
    q["device"] = 1
    q["device_name"] = "NVIDIA H100 80GB HBM3"
    q["capability"] = 90
    out["gpu_plan"] = write_plan(q)
    q = copy_plan(p)
    q["device"] = 7
    out["unknown_device"] = write_plan(q)
    q = copy_plan(p)
    q["isa"] = ["amx-imaginary"]
    out["foreign_isa"] = write_plan(q)
    q = copy_plan(p)
    q["sections"][3][0] = 9
    out["unknown_section"] = write_plan(q)
    q = copy_plan(p)
    q["sections"][1][0] = 1
    out["duplicate_section"] = write_plan(q)
    q = copy_plan(p)
    del q["sections"][3]
    out["missing_section"] = write_plan(q)
    good = write_plan(copy_plan(p))
    out["section_outside_file"] = patch_entry(good, 2, offset=1 << 40)
    out["sections_overlap"] = patch_entry(good, 1, offset=entries(good)[0][2] + 64)
    out["nonzero_padding"] = write_plan(copy_plan(p), padding=b"\xAA")

    # Graph problems: hostile counts, ids, shapes and types behind correct checksums.
    q = copy_plan(p)
    body = bytearray(section(q, 1)[1])
    struct.pack_into("<I", body, 4 + len(g["name"]), 0xFFFFFFFF)
    section(q, 1)[1] = bytes(body)
    out["huge_value_count"] = write_plan(q)
    q = copy_plan(p)
    body = bytearray(section(q, 1)[1])
    struct.pack_into("<I", body, 0, 0x7FFFFFFF)
    section(q, 1)[1] = bytes(body)
    out["huge_string_length"] = write_plan(q)

    def set_dims(name, dims):
        def edit(g):
            g["values"][value_id(g, name)]["dims"] = dims
        return edit

    out["negative_dim"] = write_plan(with_graph(p, set_dims("x", [2, -3])))
    out["overflowing_dims"] = write_plan(with_graph(p, set_dims("x", [1 << 30, 1 << 62])))
    out["rank_too_large"] = write_plan(with_graph(p, set_dims("x", [1] * 9)))
    out["tensor_over_limit"] = write_plan(with_graph(p, set_dims("x", [1 << 22, 1 << 13])))
    out["shape_mismatch"] = write_plan(with_graph(p, set_dims("y", [2, 4])))

    def edit_value(name, key, val):
        def edit(g):
            g["values"][value_id(g, name)][key] = val
        return edit

    out["unknown_data_type"] = write_plan(with_graph(p, edit_value("x", "dtype", 6)))
    out["weights_size_mismatch"] = write_plan(
        with_graph(p, edit_value("Constant_0.weights", "size", 20)))
    out["weights_outside_section"] = write_plan(
        with_graph(p, edit_value("Constant_0.weights", "offset", 4096)))

    def zero_sized_constant(g):
        g["values"][c]["dims"] = [0, 3]
    out["zero_sized_constant"] = write_plan(with_graph(p, zero_sized_constant))

    # A constant left out of the plan (absorbed into prepared weights) that nothing prepared.
    def absorbed_constant(g):
        g["values"][c]["constant"] = 2
    out["absorbed_without_prepared_weights"] = write_plan(with_graph(p, absorbed_constant))

    def unknown_op(g):
        plan_node(g, "Activation")["op"] = "Activation2"
    out["unknown_op"] = write_plan(with_graph(p, unknown_op))

    def cyclic(g):
        plan_node(g, "ElementWise")["inputs"] = [x, y]  # reads the output of the layer after it
    out["cyclic_graph"] = write_plan(with_graph(p, cyclic))

    def dangling(g):
        plan_node(g, "ElementWise")["inputs"] = [x, 99]
    out["dangling_tensor_id"] = write_plan(with_graph(p, dangling))

    def writes_constant(g):
        n = plan_node(g, "ElementWise")
        n["outputs"] = [c]
        g["values"][c]["producer"] = 0
        g["values"][s]["producer"] = -1
        plan_node(g, "Activation")["inputs"] = [c]
    out["layer_writes_constant"] = write_plan(with_graph(p, writes_constant))

    def duplicate_output(g):
        g["outputs"] = [y, y]
    out["duplicate_output_name"] = write_plan(with_graph(p, duplicate_output))

    def bad_tag(g):
        plan_node(g, "Activation")["attrs"][0][1] = 9
    out["unknown_attribute_tag"] = write_plan(with_graph(p, bad_tag))

    def duplicate_attribute(g):
        attrs = plan_node(g, "Activation")["attrs"]
        attrs.append(list(attrs[0]))
    out["duplicate_attribute"] = write_plan(with_graph(p, duplicate_attribute))

    def bad_enum(g):
        plan_node(g, "Activation")["attrs"][0][2] = 999
    out["unknown_activation_type"] = write_plan(with_graph(p, bad_enum))

    # Tactics and memory problems.
    def tactics(body):
        q = copy_plan(p)
        section(q, 2)[1] = body
        return write_plan(q)

    w = Writer()
    w.put("I", 1)
    w.string("cpu.reference")
    out["tactic_count_mismatch"] = tactics(bytes(w.out))
    w = Writer()
    w.put("I", 2)
    w.string("cpu.reference")
    w.string("gpu.magic")
    out["unknown_tactic"] = tactics(bytes(w.out))

    def memory(arena, offsets):
        q = copy_plan(p)
        w = Writer()
        w.put("Q", arena)
        w.put("Q", arena)
        w.put("I", len(offsets))
        for o in offsets:
            w.put("q", o)
        section(q, 3)[1] = bytes(w.out)
        return write_plan(q)

    offsets = [-1] * len(g["values"])
    offsets[s] = 64
    out["activation_outside_arena"] = memory(64, offsets)
    offsets[s] = 8
    out["misaligned_activation"] = memory(128, offsets)
    offsets[s] = 0
    out["arena_huge"] = memory(1 << 40, offsets)
    return out


def npy_files():
    return {
        "bad_magic.npy": b"NUMPY\x93" + bytes(64),
        "truncated.npy": npy("<f4", "(2,)", struct.pack("<2f", 1, 2))[:20],
        "huge_shape.npy": npy("<f4", "(1099511627776, 1099511627776)", bytes(8)),
        "big_endian.npy": npy(">f4", "(2,)", struct.pack(">2f", 1, 2)),
        "data_short.npy": npy("<f4", "(4,)", struct.pack("<2f", 1, 2)),
        "int64_overflow.npy": npy("<i8", "(2,)", struct.pack("<2q", 1, 1 << 40)),
    }


# --- ONNX models, encoded by hand (protobuf wire format, field numbers of onnx.proto) so that no
# onnx or protobuf module is needed, and so that fields can hold what no ONNX writer would put.

def varint(n):
    n &= MASK  # negative int64 values are ten bytes of two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_int(field, n):
    return varint(field << 3) + varint(n)


def pb_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def pb_float(field, f):
    return varint(field << 3 | 5) + struct.pack("<f", f)


FLOAT, INT64, STRING, BOOL = 1, 7, 8, 9
ATTR_INT, ATTR_INTS, ATTR_GRAPH = 2, 7, 5


def tensor(name, dims, dtype=FLOAT, raw=None, floats=None, int64s=None, external=None):
    """TensorProto: dims 1, data_type 2, float_data 4, int64_data 7, name 8, raw_data 9,
    external_data 13, data_location 14."""
    out = b"".join(pb_int(1, d) for d in dims) + pb_int(2, dtype)
    if floats is not None:
        out += pb_bytes(4, b"".join(struct.pack("<f", f) for f in floats))
    if int64s is not None:
        out += pb_bytes(7, b"".join(varint(v) for v in int64s))
    out += pb_bytes(8, name)
    if raw is not None:
        out += pb_bytes(9, raw)
    if external is not None:
        for key, value in external:
            out += pb_bytes(13, pb_bytes(1, key) + pb_bytes(2, value))
        out += pb_int(14, 1)
    return out


def value_info(name, dims=None, dtype=FLOAT):
    """ValueInfoProto: name 1, type 2 (TypeProto.tensor_type 1: elem_type 1, shape 2 (dim 1:
    dim_value 1))."""
    t = pb_int(1, dtype)
    if dims is not None:
        t += pb_bytes(2, b"".join(pb_bytes(1, pb_int(1, d)) for d in dims))
    return pb_bytes(1, name) + pb_bytes(2, pb_bytes(1, t))


def attribute(name, kind, value):
    """AttributeProto: name 1, i 3, g 6, ints 8, type 20."""
    out = pb_bytes(1, name)
    if kind == ATTR_INT:
        out += pb_int(3, value)
    elif kind == ATTR_INTS:
        out += b"".join(pb_int(8, v) for v in value)
    elif kind == ATTR_GRAPH:
        out += pb_bytes(6, value)
    return out + pb_int(20, kind)


def node(op, inputs, outputs, name=None, attrs=()):
    """NodeProto: input 1, output 2, name 3, op_type 4, attribute 5."""
    out = b"".join(pb_bytes(1, i) for i in inputs) + b"".join(pb_bytes(2, o) for o in outputs)
    out += pb_bytes(3, name or outputs[0]) + pb_bytes(4, op)
    return out + b"".join(pb_bytes(5, a) for a in attrs)


def graph(nodes, inputs, outputs, initializers=(), name="bad"):
    """GraphProto: node 1, name 2, initializer 5, input 11, output 12."""
    out = b"".join(pb_bytes(1, n) for n in nodes) + pb_bytes(2, name)
    out += b"".join(pb_bytes(5, t) for t in initializers)
    out += b"".join(pb_bytes(11, i) for i in inputs)
    return out + b"".join(pb_bytes(12, o) for o in outputs)


def model(g, opsets=(("", 17),)):
    """ModelProto: ir_version 1, opset_import 8 (domain 1, version 2), graph 7."""
    out = pb_int(1, 8)
    for domain, version in opsets:
        out += pb_bytes(8, pb_bytes(1, domain) + pb_int(2, version))
    return out + pb_bytes(7, g)


W_RAW = struct.pack("<6f", 1, 2, 3, 4, 5, 6)


def base_graph(w=None, add_inputs=("x", "w"), relu_inputs=("s",), outputs=("y",)):
    """x + w -> s -> Relu -> y, with w a [2, 3] initializer."""
    if w is None:
        w = tensor("w", [2, 3], raw=W_RAW)
    return graph([node("Add", list(add_inputs), ["s"]), node("Relu", list(relu_inputs), ["y"])],
                 [value_info("x", [2, 3])], [value_info(o) for o in outputs], [w])


def onnx_models():
    """name -> bytes (or None for a model written elsewhere); the good base model parses."""
    out = {}
    good = model(base_graph())
    out["empty"] = b""
    out["truncated"] = good[:len(good) // 2]
    out["random_bytes"] = bytes(random.Random(10).randrange(256) for _ in range(300))
    out["json_text"] = json.dumps(BASE_NETWORK).encode()
    out["opset_negative"] = model(base_graph(), opsets=(("", -1),))
    # Sin came with opset 7; kiln reads older opsets only for ops whose old definition it knows.
    sin = graph([node("Sin", ["x"], ["y"])], [value_info("x", [2, 3])], [value_info("y")])
    out["opset_too_old"] = model(sin, opsets=(("", 3),))
    out["no_default_opset"] = model(base_graph(), opsets=(("com.example", 1),))
    out["cyclic_graph"] = model(base_graph(add_inputs=("x", "y")))
    out["dangling_input"] = model(base_graph(add_inputs=("x", "nowhere")))
    # Conv weights that the model names but does not hold (saved without its initializers).
    conv = graph([node("Conv", ["x", "k"], ["y"])], [value_info("x", [1, 1, 4, 4])],
                 [value_info("y")])
    out["missing_initializer"] = model(conv)
    out["raw_data_size_mismatch"] = model(base_graph(tensor("w", [2, 3], raw=W_RAW[:20])))
    out["typed_data_count_mismatch"] = model(base_graph(tensor("w", [2, 3], floats=[1, 2, 3])))
    out["unknown_data_type"] = model(base_graph(tensor("w", [2, 3], dtype=99, raw=W_RAW)))
    out["string_tensor"] = model(base_graph(tensor("w", [1], dtype=STRING, raw=b"ab")))
    out["negative_dim"] = model(base_graph(tensor("w", [2, -3], raw=W_RAW)))
    out["negative_input_dim"] = model(graph(
        [node("Relu", ["x"], ["y"])], [value_info("x", [2, -3])], [value_info("y")]))
    out["rank_too_large"] = model(base_graph(tensor("w", [1] * 9, raw=struct.pack("<f", 1))))
    out["huge_declared_tensor"] = model(base_graph(tensor("w", [1 << 16] * 3, raw=W_RAW)))
    out["huge_input"] = model(graph(
        [node("Relu", ["x"], ["y"])], [value_info("x", [1 << 31, 1 << 31])], [value_info("y")]))
    # Reshape's target shape is an int64 constant; kiln shapes are int32.
    shape = tensor("shape", [2], dtype=INT64, int64s=[1 << 40, -1])
    out["int64_overflows_int32"] = model(graph(
        [node("Reshape", ["x", "shape"], ["y"])], [value_info("x", [2, 3])], [value_info("y")],
        [shape]))
    big = tensor("big", [2], dtype=INT64, int64s=[1, 1 << 40])
    out["int64_constant_overflows_int32"] = model(graph(
        [node("Add", ["x", "big"], ["y"])], [value_info("x", [2], INT64)], [value_info("y", None,
                                                                                      INT64)],
        [big]))
    axis = attribute("axis", ATTR_INT, (1 << 40))
    out["axis_overflows_int32"] = model(graph(
        [node("Softmax", ["x"], ["y"], attrs=[axis])], [value_info("x", [2, 3])],
        [value_info("y")]))

    # Pads so large that the output would have about 2^62 elements.
    pads = tensor("pads", [4], dtype=INT64, int64s=[0, 0, 0, (1 << 62) - 13])
    out["pad_output_too_large"] = model(graph(
        [node("Pad", ["x", "pads"], ["y"])], [value_info("x", [1, 3])], [value_info("y")],
        [pads]), opsets=(("", 11),))

    # Constants whose size the model decides without paying for it in bytes: each is checked
    # against ModelLimits::maxTensorBytes (16 GiB by default) before anything is allocated.
    big_shape = tensor("shape", [2], dtype=INT64, int64s=[1 << 20, 1 << 20])
    out["constant_of_shape_too_large"] = model(graph(
        [node("ConstantOfShape", ["shape"], ["c"]), node("Add", ["x", "c"], ["y"])],
        [value_info("x", [1])], [value_info("y")], [big_shape]))
    bounds = [tensor("start", [], dtype=INT64, int64s=[0]),
              tensor("limit", [], dtype=INT64, int64s=[1 << 62]),
              tensor("delta", [], dtype=INT64, int64s=[1])]
    out["range_too_long"] = model(graph(
        [node("Range", ["start", "limit", "delta"], ["r"]), node("Add", ["x", "r"], ["y"])],
        [value_info("x", [1], INT64)], [value_info("y", None, INT64)], bounds))
    # The mask output of Dropout is all true: a constant of the input's shape (2^36 bools).
    out["dropout_mask_too_large"] = model(graph(
        [node("Dropout", ["x"], ["y", "mask"])], [value_info("x", [1 << 18, 1 << 18])],
        [value_info("y"), value_info("mask", None, BOOL)]))

    def external(location, length=None):
        entries = [("location", location)]
        if length is not None:
            entries.append(("length", str(length)))
        return model(base_graph(tensor("w", [2, 3], external=entries)))

    out["external_outside_folder"] = external("../manifest.txt")
    out["external_absolute_path"] = external("/etc/passwd")
    out["external_missing_file"] = external("no_such_weights.bin")
    out["external_symlink_escape"] = external("escape_link.bin")
    out["external_file_too_short"] = external("short_weights.bin")
    out["external_length_mismatch"] = external("short_weights.bin", 1000)
    # Zero-sized tensors where an extent must be positive: a pooling window of 0.
    pool = node("MaxPool", ["x"], ["y"], attrs=[attribute("kernel_shape", ATTR_INTS, [0, 0])])
    out["zero_pool_window"] = model(graph([pool], [value_info("x", [1, 1, 4, 4])],
                                          [value_info("y")]))
    out["zero_sized_conv_weights"] = model(graph(
        [node("Conv", ["x", "k"], ["y"])], [value_info("x", [1, 1, 4, 4])], [value_info("y")],
        [tensor("k", [1, 1, 0, 3], raw=b"")]))
    out["duplicate_output_names"] = model(base_graph(outputs=("y", "y")))
    out["tensor_written_twice"] = model(graph(
        [node("Relu", ["x"], ["y"], name="first"), node("Neg", ["x"], ["y"], name="second")],
        [value_info("x", [2, 3])], [value_info("y")]))
    out["duplicate_initializer"] = model(graph(
        [node("Add", ["x", "w"], ["y"])], [value_info("x", [2, 3])], [value_info("y")],
        [tensor("w", [2, 3], raw=W_RAW), tensor("w", [2, 3], raw=W_RAW)]))
    foreign = node("Relu", ["x"], ["y"]) + pb_bytes(7, "com.example")  # NodeProto.domain 7
    out["unknown_domain_op"] = model(graph([foreign], [value_info("x", [2, 3])], [value_info("y")]),
                                     opsets=(("", 17), ("com.example", 1)))
    out["unsupported_op"] = model(graph(
        [node("FrobnicateTensor", ["x"], ["y"])], [value_info("x", [2, 3])], [value_info("y")]))
    out["no_graph"] = pb_int(1, 8) + pb_bytes(8, pb_bytes(1, "") + pb_int(2, 17))
    out["no_outputs"] = model(graph([node("Relu", ["x"], ["y"])], [value_info("x", [2, 3])], []))
    # Subgraphs nested far deeper than any model needs: the protobuf reader's recursion limit.
    g = graph([node("Relu", ["x"], ["y"])], [], [value_info("y")])
    for _ in range(120):
        g = graph([node("If", ["c"], ["y"], attrs=[attribute("then_branch", ATTR_GRAPH, g)])],
                  [], [value_info("y")])
    out["deeply_nested_subgraphs"] = model(g)
    return out


def onnx_files():
    """External data files the ONNX models name."""
    return {"short_weights.bin": struct.pack("<2f", 1, 2)}


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--onnx-only":
        write_onnx()
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    write_onnx()
    os.makedirs(PLANS, exist_ok=True)
    for name, data in plans(build_base_plan(sys.argv[1])).items():
        with open(os.path.join(PLANS, name + ".plan"), "wb") as f:
            f.write(data)
    for name, data in npy_files().items():
        with open(os.path.join(NETWORKS, name), "wb") as f:
            f.write(data)
    # A link inside the network's folder that leads out of it.
    link = os.path.join(NETWORKS, "escape_link.npy")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink("../make_bad_inputs.py", link)


def write_onnx():
    os.makedirs(MODELS, exist_ok=True)
    for name, data in onnx_models().items():
        with open(os.path.join(MODELS, name + ".onnx"), "wb") as f:
            f.write(data)
    for name, data in onnx_files().items():
        with open(os.path.join(MODELS, name), "wb") as f:
            f.write(data)
    # A link inside the model's folder that leads out of it.
    link = os.path.join(MODELS, "escape_link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink("../manifest.txt", link)


if __name__ == "__main__":
    main()
