#!/usr/bin/env node
// ONNX Runtime (CPU, npm onnxruntime-node) on the ONNX backend node tests, compared exactly as
// kiln's runner compares (tests/onnx_conformance): every output of every data set must have the
// expected shape and values, floats within |a - b| <= 1e-3 + 1e-3 * |b| (NaN matches NaN),
// integers, bools and strings exactly. Writes one status per test folder as JSON; kiln's runner
// applies the exclusions and the per-op grouping when it merges this into
// docs/onnx-conformance.md, so both counts cover exactly the same tests.
//
// Setup (once; `make conformance-ort` does it): cd bench/onnx_conformance && npm install
// --ignore-scripts  (the install script only fetches GPU files; the CPU runtime is in the package)
//
// Usage: node ort_conformance.js [--data DIR] [--out FILE] [--filter TEXT] [--timeout S] [--verbose]
//
// Each test runs in a worker process; a test that kills or hangs its worker counts as a crash and
// the run goes on in a fresh worker.
'use strict';
const fs = require('fs');
const path = require('path');
const { fork } = require('child_process');

const ATOL = 1e-3;
const RTOL = 1e-3;

// --- protobuf wire format: just what TensorProto and ModelProto need -----------------------

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  done() { return this.pos >= this.buf.length; }
  varint() {  // as BigInt, so 64-bit values survive
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes() {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  // Every field as [number, wire, value]: value is a BigInt (varint), a Buffer (length-delimited)
  // or a Buffer of 4 or 8 bytes (fixed).
  *fields() {
    while (!this.done()) {
      const key = Number(this.varint());
      const field = key >>> 3, wire = key & 7;
      if (wire === 0) yield [field, wire, this.varint()];
      else if (wire === 2) yield [field, wire, this.bytes()];
      else if (wire === 1 || wire === 5) {
        const n = wire === 1 ? 8 : 4;
        yield [field, wire, this.buf.subarray(this.pos, this.pos + n)];
        this.pos += n;
      } else this.skip(wire);
    }
  }
}

const asInt64 = (v) => BigInt.asIntN(64, v);

// Repeated scalar fields arrive packed (one length-delimited blob) or one value per field.
function pushVarints(list, wire, value) {
  if (wire === 2) { const r = new Reader(value); while (!r.done()) list.push(r.varint()); }
  else list.push(value);
}
function pushFixed(list, wire, value, size, read) {
  for (let i = 0; i + size <= value.length; i += size) list.push(read(value, i));
}

// onnx.TensorProto.DataType
const T = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16 };
const ORT_TYPE = { [T.FLOAT]: ['float32', Float32Array], [T.UINT8]: ['uint8', Uint8Array],
  [T.INT8]: ['int8', Int8Array], [T.UINT16]: ['uint16', Uint16Array], [T.INT16]: ['int16', Int16Array],
  [T.INT32]: ['int32', Int32Array], [T.INT64]: ['int64', BigInt64Array], [T.BOOL]: ['bool', Uint8Array],
  [T.FLOAT16]: ['float16', Uint16Array], [T.DOUBLE]: ['float64', Float64Array],
  [T.UINT32]: ['uint32', Uint32Array], [T.UINT64]: ['uint64', BigUint64Array] };
const FLOAT_TYPES = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function decodeTensor(buf) {
  const t = { dims: [], dataType: 0, name: '', raw: null, floats: [], int32s: [], int64s: [], strings: [],
    doubles: [], uint64s: [] };
  for (const [f, w, v] of new Reader(buf).fields()) {
    if (f === 1) { const l = []; pushVarints(l, w, v); t.dims.push(...l.map((x) => Number(asInt64(x)))); }
    else if (f === 2) t.dataType = Number(v);
    else if (f === 4) { if (w === 2) pushFixed(t.floats, w, v, 4, (b, i) => b.readFloatLE(i)); else t.floats.push(v.readFloatLE(0)); }
    else if (f === 5) pushVarints(t.int32s, w, v);
    else if (f === 6) t.strings.push(v.toString('utf8'));
    else if (f === 7) pushVarints(t.int64s, w, v);
    else if (f === 8) t.name = v.toString('utf8');
    else if (f === 9) t.raw = v;
    else if (f === 10) { if (w === 2) pushFixed(t.doubles, w, v, 8, (b, i) => b.readDoubleLE(i)); else t.doubles.push(v.readDoubleLE(0)); }
    else if (f === 11) pushVarints(t.uint64s, w, v);
    else if (f === 13 || f === 14) throw new Error('external data in test tensors is not supported');
  }
  return t;
}

// A TensorProto as [ort type, data, dims]: data is the typed array (or string[]) ORT takes.
function tensorValues(t) {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.dataType === T.STRING) return ['string', t.strings, t.dims];
  if (t.dataType === T.BFLOAT16) {  // kept as bit patterns; ORT's JS API has no bfloat16
    const bits = t.raw ? new Uint16Array(copyBuffer(t.raw)) : Uint16Array.from(t.int32s, Number);
    return ['bfloat16', bits, t.dims];
  }
  const entry = ORT_TYPE[t.dataType];
  if (!entry) throw new Error(`test data of type ${t.dataType} is not supported`);
  const [type, Ctor] = entry;
  let data;
  if (t.raw) {
    data = new Ctor(copyBuffer(t.raw));
  } else if (t.dataType === T.FLOAT) {
    data = Float32Array.from(t.floats);
  } else if (t.dataType === T.DOUBLE) {
    data = Float64Array.from(t.doubles);
  } else if (t.dataType === T.INT64) {
    data = BigInt64Array.from(t.int64s, asInt64);
  } else if (t.dataType === T.UINT32 || t.dataType === T.UINT64) {
    data = t.dataType === T.UINT64 ? BigUint64Array.from(t.uint64s, (x) => BigInt.asUintN(64, x))
      : Uint32Array.from(t.uint64s, Number);
  } else {  // int32_data carries bool, int8/16/32, uint8/16 and float16 bits
    data = Ctor.from(t.int32s, (x) => Number(BigInt.asIntN(32, x)));
  }
  if (data.length !== count) throw new Error(`tensor '${t.name}' holds ${data.length} values for ${count}`);
  return [type, data, t.dims];
}

function copyBuffer(buf) {  // an aligned ArrayBuffer of its own
  const out = new ArrayBuffer(buf.length);
  new Uint8Array(out).set(buf);
  return out;
}

// The graph inputs the data feeds (initializers aside) and the outputs it checks, with the
// element types the model declares.
function graphIO(modelBuf) {
  let graph = null;
  for (const [f, , v] of new Reader(modelBuf).fields()) if (f === 7) graph = v;
  if (!graph) throw new Error('model has no graph');
  const inits = new Set(), inputs = [], outputs = [];
  const valueInfo = (buf) => {
    const info = { name: '', elemType: 0 };
    for (const [f, , v] of new Reader(buf).fields()) {
      if (f === 1) info.name = v.toString('utf8');
      else if (f === 2) {
        for (const [tf, , tv] of new Reader(v).fields()) {
          if (tf !== 1) continue;  // tensor_type
          for (const [ef, , ev] of new Reader(tv).fields()) if (ef === 1) info.elemType = Number(ev);
        }
      }
    }
    return info;
  };
  for (const [f, , v] of new Reader(graph).fields()) {
    if (f === 5) { for (const [tf, , tv] of new Reader(v).fields()) if (tf === 8) inits.add(tv.toString('utf8')); }
    else if (f === 11) inputs.push(valueInfo(v));
    else if (f === 12) outputs.push(valueInfo(v));
  }
  return { inputs: inputs.filter((i) => !inits.has(i.name)), outputs };
}

// --- comparison (the same rule as tests/onnx_conformance/tensor_data.cpp) -------------------

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
function bf16ToFloat(b) { const f = new Float32Array(1); new Uint32Array(f.buffer)[0] = b << 16; return f[0]; }

function asNumbers(type, data) {
  if (type === 'float16') return Array.from(data, halfToFloat);
  if (type === 'bfloat16') return Array.from(data, bf16ToFloat);
  return Array.from(data);
}

function fmt(x) { return typeof x === 'number' ? Number(x.toPrecision(6)).toString() : String(x); }

function compare(actual, expected) {
  const [aType, aData, aDims] = actual, [eType, eData, eDims] = expected;
  if (aDims.length !== eDims.length || aDims.some((d, i) => d !== eDims[i])) {
    return `shape mismatch: got ${shapeText(aDims)}, expected ${shapeText(eDims)}`;
  }
  const a = asNumbers(aType, aData), e = asNumbers(eType, eData);
  const isFloat = FLOAT_TYPES.has(eType);
  let wrong = 0, worst = 0, worstErr = -1;
  for (let i = 0; i < e.length; ++i) {
    let ok, err;
    if (eType === 'string' || aType === 'string') { ok = a[i] === e[i]; err = ok ? 0 : Infinity; }
    else if (isFloat) {
      const x = Number(a[i]), y = Number(e[i]);
      if (Number.isNaN(x) || Number.isNaN(y)) { ok = Number.isNaN(x) && Number.isNaN(y); err = ok ? 0 : Infinity; }
      else if (!Number.isFinite(x) || !Number.isFinite(y)) { ok = x === y; err = ok ? 0 : Infinity; }
      else { err = Math.abs(x - y); ok = err <= ATOL + RTOL * Math.abs(y); }
    } else {
      const x = typeof a[i] === 'bigint' ? a[i] : BigInt(Math.trunc(Number(a[i])));
      const y = typeof e[i] === 'bigint' ? e[i] : BigInt(Math.trunc(Number(e[i])));
      ok = x === y && (typeof a[i] === 'bigint' || Number.isInteger(Number(a[i])));
      err = Math.abs(Number(x - y));
    }
    if (!ok) { ++wrong; if (err > worstErr) { worstErr = err; worst = i; } }
  }
  if (!wrong) return '';
  return `wrong values: ${wrong} of ${e.length} off, max error ${fmt(worstErr)} at index ${worst} ` +
    `(got ${fmt(a[worst])}, expected ${fmt(e[worst])})`;
}

function shapeText(dims) { return dims.length ? dims.join('x') : 'scalar'; }

// --- one test (in a worker) -------------------------------------------------------------------

function readNumbered(dir, prefix) {
  const out = [];
  for (let i = 0; fs.existsSync(path.join(dir, `${prefix}${i}.pb`)); ++i) {
    out.push(decodeTensor(fs.readFileSync(path.join(dir, `${prefix}${i}.pb`))));
  }
  return out;
}

// ONNX 1.12 stores bfloat16 test tensors as uint16 bit patterns: read them as the model declares.
function adoptDeclared(t, elemType) {
  if (elemType === T.BFLOAT16 && t.dataType === T.UINT16) t.dataType = T.BFLOAT16;
  return t;
}

async function runTest(ort, dir) {
  const modelPath = path.join(dir, 'model.onnx');
  const io = graphIO(fs.readFileSync(modelPath));
  const sets = fs.readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
  if (!sets.length) return { status: 'fail', reason: 'the test has no test_data_set folder' };
  let session;
  try {
    session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    const msg = firstLine(e.message || String(e));
    const unsupported = /NOT_IMPLEMENTED|Could not find an implementation|is not supported|unsupported/i.test(msg);
    return { status: unsupported ? 'unsupported' : 'fail', reason: `session: ${msg}` };
  }
  for (const set of sets) {
    const where = sets.length > 1 ? `${set}: ` : '';
    const setDir = path.join(dir, set);
    const inputs = readNumbered(setDir, 'input_'), outputs = readNumbered(setDir, 'output_');
    if (outputs.length !== io.outputs.length) {
      return { status: 'fail', reason: `${where}${outputs.length} outputs for ${io.outputs.length} graph outputs` };
    }
    const feeds = {};
    for (let i = 0; i < inputs.length && i < io.inputs.length; ++i) {
      const [type, data, dims] = tensorValues(adoptDeclared(inputs[i], io.inputs[i].elemType));
      if (type === 'bfloat16') return { status: 'fail', reason: `${where}bfloat16 inputs: onnxruntime-node has no bfloat16 tensors` };
      feeds[io.inputs[i].name] = new ort.Tensor(type, data, dims);
    }
    let results;
    try {
      results = await session.run(feeds);
    } catch (e) {
      return { status: 'fail', reason: `${where}run: ${firstLine(e.message || String(e))}` };
    }
    for (let i = 0; i < io.outputs.length; ++i) {
      const name = io.outputs[i].name, got = results[name];
      if (!got) return { status: 'fail', reason: `${where}output '${name}' missing` };
      const expected = tensorValues(adoptDeclared(outputs[i], io.outputs[i].elemType));
      const diff = compare([got.type, got.data, Array.from(got.dims, Number)], expected);
      if (diff) return { status: 'fail', reason: `${where}output '${name}': ${diff}` };
    }
  }
  return { status: 'pass' };
}

function firstLine(text) { return String(text).split('\n')[0].trim(); }

function workerMain() {
  const ort = require('onnxruntime-node');
  process.on('message', async ({ dir }) => {
    let result;
    try { result = await runTest(ort, dir); }
    catch (e) { result = { status: 'fail', reason: `exception: ${firstLine(e.message || String(e))}` }; }
    process.send(result);
  });
  process.send({ ready: true, version: require('onnxruntime-node/package.json').version });
}

// --- the driver ---------------------------------------------------------------------------

function parseArgs() {
  const a = process.argv.slice(2), o = {
    data: '/usr/share/libonnx-testdata/data/node', out: path.join(__dirname, 'ort_results.json'),
    filter: '', timeout: 60, verbose: false };
  while (a.length) {
    const k = a.shift();
    if (k === '--data') o.data = a.shift();
    else if (k === '--out') o.out = a.shift();
    else if (k === '--filter') o.filter = a.shift();
    else if (k === '--timeout') o.timeout = +a.shift();
    else if (k === '--verbose') o.verbose = true;
    else if (k === '--worker') o.worker = true;
    else { console.error(`unknown option ${k}\nusage: node ort_conformance.js [--data DIR] [--out FILE] [--filter TEXT] [--timeout S] [--verbose]`); process.exit(2); }
  }
  return o;
}

class Worker {
  constructor() {
    this.proc = fork(__filename, ['--worker'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    this.ready = new Promise((resolve) => this.proc.once('message', resolve));
  }
  // Resolves with the result, or with a crash when the worker dies or overruns the time limit.
  run(dir, timeoutS) {
    return new Promise((resolve) => {
      const finish = (result) => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
        resolve(result);
      };
      const onMessage = (m) => finish(m);
      const onExit = (code, signal) => {
        this.dead = true;
        finish({ status: 'crash', reason: signal ? `killed by signal ${signal}` : `exited with status ${code}` });
      };
      const timer = setTimeout(() => {
        this.proc.off('exit', onExit);
        this.proc.kill('SIGKILL');
        this.dead = true;
        finish({ status: 'crash', reason: `timed out after ${timeoutS} s (killed)` });
      }, timeoutS * 1000);
      this.proc.on('message', onMessage);
      this.proc.on('exit', onExit);
      this.proc.send({ dir });
    });
  }
  stop() { if (!this.dead) this.proc.kill(); }
}

async function main() {
  const o = parseArgs();
  if (o.worker) return workerMain();
  if (!fs.existsSync(o.data)) { console.error(`no ONNX node tests at ${o.data} (install Debian's libonnx-testdata)`); process.exit(2); }
  const names = fs.readdirSync(o.data)
    .filter((d) => fs.existsSync(path.join(o.data, d, 'model.onnx')) && d.includes(o.filter)).sort();
  const started = Date.now();
  let worker = new Worker();
  const { version } = await worker.ready;
  const tests = {};
  const counts = { pass: 0, fail: 0, unsupported: 0, crash: 0 };
  for (const name of names) {
    if (worker.dead) { worker = new Worker(); await worker.ready; }
    const result = await worker.run(path.join(o.data, name), o.timeout);
    tests[name] = result.reason ? { status: result.status, reason: result.reason } : { status: result.status };
    ++counts[result.status];
    if (o.verbose || result.status === 'crash') console.log(`${result.status}  ${name}${result.reason ? ': ' + result.reason : ''}`);
  }
  worker.stop();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`onnxruntime-node ${version}: ${counts.pass} of ${names.length} test folders pass ` +
    `(${counts.fail} fail, ${counts.unsupported} unsupported, ${counts.crash} crash) in ${seconds} s; ` +
    'kiln_onnx_conformance applies the exclusions');
  if (o.filter) { console.log('--filter given: results not written'); return; }
  // No timings or dates: an unchanged run leaves the file unchanged.
  const out = { runtime: 'onnxruntime-node', version, data: o.data, atol: ATOL, rtol: RTOL, tests };
  fs.writeFileSync(o.out, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${o.out}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
