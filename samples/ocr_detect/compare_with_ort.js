#!/usr/bin/env node
// The OCR demo's probability map from kiln against ONNX Runtime's (CPU, npm onnxruntime-node) on
// the same input: max and mean |kiln - ORT|, pixels on different sides of the region threshold,
// and the text regions each finds. `make demo-ort` runs it after `make demo`.
//
// Usage: node compare_with_ort.js MODEL.onnx INPUT.npy KILN_OUTPUT.npy [--threshold 0.3]
//                                 [--blocks N]   (also print ORT's NxN block means as C++)
// onnxruntime-node must resolve (NODE_PATH; `make demo-ort` installs it in bench/onnx_conformance).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpyFloat32(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not an .npy file`);
  const v1 = buf[6] === 1;
  const hlen = v1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (v1 ? 10 : 12) + hlen;
  const header = buf.toString('latin1', v1 ? 10 : 12, start);
  if (!header.includes("'<f4'")) throw new Error(`${file}: float32 expected`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
    .filter(Boolean).map(Number);
  const bytes = buf.subarray(start);
  const data = new Float32Array(bytes.length / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { shape, data };
}

// 8-connected components above the threshold of at least minArea pixels (as the demo counts).
function countRegions(prob, height, width, threshold, minArea) {
  const seen = new Uint8Array(height * width);
  let regions = 0;
  for (let start = 0; start < prob.length; ++start) {
    if (seen[start] || !(prob[start] > threshold)) continue;
    seen[start] = 1;
    const stack = [start];
    let area = 0;
    while (stack.length) {
      const i = stack.pop();
      ++area;
      const y = Math.floor(i / width), x = i % width;
      for (let ny = Math.max(y - 1, 0); ny <= Math.min(y + 1, height - 1); ++ny) {
        for (let nx = Math.max(x - 1, 0); nx <= Math.min(x + 1, width - 1); ++nx) {
          const j = ny * width + nx;
          if (!seen[j] && prob[j] > threshold) { seen[j] = 1; stack.push(j); }
        }
      }
    }
    if (area >= minArea) ++regions;
  }
  return regions;
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const value = args[i + 1];
    args.splice(i, 2);
    return Number(value);
  };
  const threshold = option('--threshold', 0.3);
  const blocks = option('--blocks', 0);
  if (args.length !== 3) {
    console.error('usage: compare_with_ort.js MODEL.onnx INPUT.npy KILN_OUTPUT.npy [--threshold T] [--blocks N]');
    process.exit(2);
  }
  const [modelPath, inputPath, kilnPath] = args;
  const input = readNpyFloat32(inputPath);
  const kiln = readNpyFloat32(kilnPath);
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2 });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) };
  const ortOut = (await session.run(feeds))[session.outputNames[0]];
  if (ortOut.data.length !== kiln.data.length) {
    throw new Error(`ORT output ${ortOut.dims} and kiln output ${kiln.shape} differ in size`);
  }
  const height = ortOut.dims[2], width = ortOut.dims[3];
  let maxDiff = 0, sumDiff = 0, flipped = 0, at = 0;
  for (let i = 0; i < kiln.data.length; ++i) {
    const d = Math.abs(kiln.data[i] - ortOut.data[i]);
    if (!(d <= maxDiff)) { maxDiff = d; at = i; }
    sumDiff += d;
    if ((kiln.data[i] > threshold) !== (ortOut.data[i] > threshold)) ++flipped;
  }
  console.log(`onnxruntime-node ${require('onnxruntime-node/package.json').version} vs kiln, ` +
    `probability map ${ortOut.dims.join('x')}:`);
  console.log(`  max |kiln - ORT| = ${maxDiff.toExponential(3)} (at y ${Math.floor(at / width)}, ` +
    `x ${at % width}), mean ${(sumDiff / kiln.data.length).toExponential(3)}`);
  console.log(`  pixels on different sides of ${threshold}: ${flipped}`);
  console.log(`  text regions: kiln ${countRegions(kiln.data, height, width, threshold, 16)}, ` +
    `ORT ${countRegions(ortOut.data, height, width, threshold, 16)}`);
  if (blocks > 0) {
    const means = [];
    for (let by = 0; by < height; by += blocks) {
      for (let bx = 0; bx < width; bx += blocks) {
        let sum = 0, n = 0;
        for (let y = by; y < Math.min(by + blocks, height); ++y) {
          for (let x = bx; x < Math.min(bx + blocks, width); ++x) { sum += ortOut.data[y * width + x]; ++n; }
        }
        means.push((sum / n).toFixed(7));
      }
    }
    console.log(`// ORT's ${blocks}x${blocks} block means, row-major:`);
    const perRow = Math.ceil(width / blocks);
    for (let i = 0; i < means.length; i += perRow) console.log(`    ${means.slice(i, i + perRow).join(', ')},`);
  }
}

main().catch(e => { console.error(e.message || e); process.exit(1); });
