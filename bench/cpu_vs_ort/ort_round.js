#!/usr/bin/env node
// One timing round of ONNX Runtime in a process of its own, as `kiln exec` is one for kiln
// (cpu_vs_ort.js runs one of each per round): loads the model, runs it for at least --warm-up-ms,
// then --iterations times, and prints the latencies in milliseconds as a JSON array.
//   node ort_round.js --model M.onnx --threads N --iterations N --warm-up-ms MS NAME=FILE.npy...
// Why a process per round: on the shared VMs these benchmarks run on, a process's speed is set
// when it starts and holds for its life (the same model runs at 11 or 14 ms a process, process
// after process), so one long-lived session would be a single draw against kiln's many.
'use strict';
const ort = require('onnxruntime-node');
const { readNpy } = require('./npy');

async function main() {
  const o = { model: '', threads: 2, iterations: 5, warmUpMs: 100, inputs: [] };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--model') o.model = argv[++i];
    else if (k === '--threads') o.threads = +argv[++i];
    else if (k === '--iterations') o.iterations = +argv[++i];
    else if (k === '--warm-up-ms') o.warmUpMs = +argv[++i];
    else if (!k.startsWith('--') && k.includes('=')) {
      const eq = k.indexOf('=');
      o.inputs.push({ name: k.slice(0, eq), file: k.slice(eq + 1) });
    } else throw new Error(`ort_round.js: unknown argument ${k}`);
  }
  if (!o.model) throw new Error('ort_round.js: give --model FILE');
  const session = await ort.InferenceSession.create(o.model, { intraOpNumThreads: o.threads,
    interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const feeds = {};
  for (const i of o.inputs) {
    const t = readNpy(i.file);
    feeds[i.name] = new ort.Tensor(t.dtype, t.data, t.shape);
  }
  const warmUpEnd = process.hrtime.bigint() + BigInt(Math.round(o.warmUpMs * 1e6));
  do await session.run(feeds); while (process.hrtime.bigint() < warmUpEnd);
  const times = [];
  for (let i = 0; i < o.iterations; i++) {
    const s = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  process.stdout.write(JSON.stringify(times));
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
