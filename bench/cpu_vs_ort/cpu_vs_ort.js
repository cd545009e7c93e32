#!/usr/bin/env node
// kiln vs ONNX Runtime on the CPU, in one run (issue #6): for each reference model, builds a kiln
// plan, checks kiln's and ONNX Runtime's outputs against the model's reference output, then times
// both alternately (rounds of --per-round inferences each after a 100 ms warm-up, each side in a
// fresh process every round: `kiln exec`, and ort_round.js for ONNX Runtime) and prints the
// medians and the kiln/ORT ratio. Fresh processes on both sides because on shared VMs a process's
// speed is drawn when it starts and kept for its life (bench/RESULTS.md, session 11).
//
// Setup once: cd bench/cpu_vs_ort && npm install --no-save --ignore-scripts onnxruntime-node
//   (node_modules/ is git-ignored; --ignore-scripts skips the GPU download, the CPU runtime is in
//   the package). Models: /usr/bin/python3 ../shared/tools/make_models.py /tmp/models [resnet50]
// Usage: node bench/cpu_vs_ort/cpu_vs_ort.js --kiln build/release/tools/kiln/kiln
//          [--models /tmp/models] [--threads 2] [--rounds 6] [--per-round 5] [--work DIR]
//          [--builder-level N] [model ...]          (default: every model of manifest.json)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const ort = require('onnxruntime-node');
const { readNpy } = require('./npy');

function parseArgs(argv) {
  const o = { kiln: '', models: process.env.KILN_MODELS_DIR || '/tmp/models', threads: 2, rounds: 6,
    perRound: 5, work: path.join(os.tmpdir(), 'kiln_cpu_vs_ort'), level: null, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--kiln') o.kiln = v();
    else if (k === '--models') o.models = v();
    else if (k === '--threads') o.threads = +v();
    else if (k === '--rounds') o.rounds = +v();
    else if (k === '--per-round') o.perRound = +v();
    else if (k === '--work') o.work = v();
    else if (k === '--builder-level') o.level = +v();
    else if (k.startsWith('--')) throw new Error(`unknown option ${k}`);
    else o.names.push(k);
  }
  if (!o.kiln) throw new Error('give the kiln command: --kiln PATH');
  return o;
}

// Worst |a - b| - (1e-4 + 1e-3 |b|) over the elements (<= 0: within the models' tolerance).
function mismatch(actual, expected) {
  if (actual.length !== expected.length) return Infinity;
  let worst = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const b = Number(expected[i]);
    const excess = Math.abs(a - b) - (1e-4 + 1e-3 * Math.abs(b));
    if (!(excess <= worst)) worst = Number.isNaN(excess) ? Infinity : Math.max(worst, excess);
  }
  return worst;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function kiln(o, args) {
  return execFileSync(o.kiln, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function benchModel(o, name, entry) {
  const model = path.join(o.models, `${name}.onnx`);
  const plan = path.join(o.work, `${name}.plan`);
  const cache = path.join(o.work, `${name}.timing-cache`);
  const inputs = entry.inputs.map((i) => ({ name: i.name, file: path.join(o.models, i.npy) }));
  const loadInputs = inputs.map((i) => `${i.name}:${i.file}`).join(',');
  const row = { name };

  // Build (cold timing cache, then warm).
  const buildArgs = ['build', `--onnx=${model}`, `--saveEngine=${plan}`, `--threads=${o.threads}`,
    `--timingCacheFile=${cache}`];
  if (o.level !== null) buildArgs.push(`--builderOptimizationLevel=${o.level}`);
  // Dynamic input dims get the shape of the model's reference input.
  buildArgs.push(`--shapes=${inputs.map((i) => `${i.name}:${readNpy(i.file).shape.join('x')}`).join(',')}`);
  fs.rmSync(cache, { force: true });
  let t0 = process.hrtime.bigint();
  kiln(o, buildArgs);
  row.buildCold = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  kiln(o, buildArgs);
  row.buildWarm = Number(process.hrtime.bigint() - t0) / 1e9;

  // Correctness of both against the reference output.
  const expected = readNpy(path.join(o.models, `${name}.output.npy`));
  const outDir = path.join(o.work, `${name}.outputs`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  kiln(o, ['exec', `--loadEngine=${plan}`, `--loadInputs=${loadInputs}`, '--iterations=1',
    '--warmUp=0', '--duration=0', `--threads=${o.threads}`, `--saveOutputs=${outDir}`]);
  const saved = fs.readdirSync(outDir).filter((f) => f.endsWith('.npy'));
  row.kilnError = saved.length === 1 ? mismatch(readNpy(path.join(outDir, saved[0])).data, expected.data)
    : Infinity;

  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: o.threads,
    interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const feeds = {};
  for (const i of inputs) {
    const t = readNpy(i.file);
    feeds[i.name] = new ort.Tensor(t.dtype, t.data, t.shape);
  }
  const ortOut = await session.run(feeds);
  row.ortError = mismatch(ortOut[session.outputNames[0]].data, expected.data);
  // Its threads are not to compete with the rounds below.
  await session.release();

  // Alternating timing rounds, each side first in every other one, both warmed up alike.
  const warmUpMs = 100;
  const kilnTimes = [];
  const ortTimes = [];
  const timesFile = path.join(o.work, `${name}.times.json`);
  const kilnRound = () => {
    kiln(o, ['exec', `--loadEngine=${plan}`, `--loadInputs=${loadInputs}`,
      `--iterations=${o.perRound}`, `--warmUp=${warmUpMs}`, '--duration=0', `--threads=${o.threads}`,
      `--exportTimes=${timesFile}`]);
    const times = JSON.parse(fs.readFileSync(timesFile, 'utf8')).map((t) => t.latencyMs);
    kilnTimes.push(...times.slice(0, o.perRound));
  };
  const ortRound = () => {
    const times = execFileSync(process.execPath, [path.join(__dirname, 'ort_round.js'),
      '--model', model, '--threads', String(o.threads), '--iterations', String(o.perRound),
      '--warm-up-ms', String(warmUpMs), ...inputs.map((i) => `${i.name}=${i.file}`)], { encoding: 'utf8' });
    ortTimes.push(...JSON.parse(times));
  };
  for (let r = 0; r < o.rounds; r++) {
    if (r % 2 === 0) {
      kilnRound();
      ortRound();
    } else {
      ortRound();
      kilnRound();
    }
  }
  row.kilnMs = median(kilnTimes);
  row.ortMs = median(ortTimes);
  row.kilnMin = Math.min(...kilnTimes);
  row.ortMin = Math.min(...ortTimes);
  row.runs = Math.min(kilnTimes.length, ortTimes.length);
  return row;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(o.work, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(o.models, 'manifest.json'), 'utf8'));
  const names = o.names.length ? o.names : Object.keys(manifest);
  const rows = [];
  for (const name of names) {
    if (!manifest[name]) throw new Error(`${name} is not in ${o.models}/manifest.json`);
    try {
      const row = await benchModel(o, name, manifest[name]);
      rows.push(row);
      console.error(`${name}: kiln ${row.kilnMs.toFixed(2)} ms, ORT ${row.ortMs.toFixed(2)} ms`);
    } catch (e) {
      const lines = String(e.stderr || e.message).trim().split('\n');
      rows.push({ name, failed: lines.find((l) => /error|not in kiln/.test(l)) || lines[lines.length - 1] });
      console.error(`${name}: failed: ${rows[rows.length - 1].failed}`);
    }
  }
  const ok = (err) => (err <= 0 ? 'ok' : `off by ${err.toExponential(1)}`);
  console.log(`kiln vs ONNX Runtime ${require('onnxruntime-node/package.json').version}, ` +
    `${o.threads} threads, median of ${o.rounds} x ${o.perRound} runs each, alternating rounds ` +
    'of fresh processes');
  console.log('');
  // The fastest runs beside the medians: on a shared machine they show each side without the
  // moments the host took from it.
  console.log('| model | kiln | ONNX Runtime | kiln / ORT | fastest: kiln / ORT | kiln output | ' +
    'ORT output | build cold / warm |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.failed) {
      console.log(`| ${r.name} | failed: ${r.failed.replace(/\|/g, '/')} | | | | | | |`);
      continue;
    }
    console.log(`| ${r.name} | ${r.kilnMs.toFixed(2)} ms | ${r.ortMs.toFixed(2)} ms | ` +
      `${(r.kilnMs / r.ortMs).toFixed(2)} | ${r.kilnMin.toFixed(2)} / ${r.ortMin.toFixed(2)} ms = ` +
      `${(r.kilnMin / r.ortMin).toFixed(2)} | ${ok(r.kilnError)} | ${ok(r.ortError)} | ` +
      `${r.buildCold.toFixed(1)} s / ${r.buildWarm.toFixed(1)} s |`);
  }
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
