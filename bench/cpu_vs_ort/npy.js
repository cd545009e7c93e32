// Reads .npy files (the reference models' inputs and outputs) for cpu_vs_ort.js and ort_round.js.
'use strict';
const fs = require('fs');

// .npy (version 1/2, C order) -> { dtype, shape, data (typed array) }.
const NPY = { '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '|b1': ['bool', Uint8Array], '<f8': ['float64', Float64Array] };
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = buf[6] === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim())
    .filter(Boolean).map(Number);
  const [dtype, Ctor] = NPY[descr] || (() => { throw new Error(`${file}: dtype ${descr}`); })();
  const bytes = buf.subarray(start + headerLen);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return { dtype, shape, data: new Ctor(copy.buffer) };
}

module.exports = { readNpy };
