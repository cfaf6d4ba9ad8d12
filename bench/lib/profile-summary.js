// Reads a V8 CPU profile (one of bench/grading's BENCH_CPU_PROFILE_DIR, or node --cpu-prof's) and prints where the
// busy time went: self time per part of the platform (a service's or workspace's dist/, a package under node_modules, Node's
// own code, the garbage collector), the functions with the most self time, and, for each function name given, its
// inclusive time (its own and everything it called; recursion counted once).
// Run: node bench/lib/profile-summary.js <profile> [--windows <file>] [--top N] [--part <substring>] [names…]
// --windows counts only the samples inside the file's [start, end] pairs (µs of the profile's clock; bench/grading
// writes the counted attempts' as windows.json), and prints per window.
// --part keeps the functions table to the functions whose file contains <substring> (services/exercises).
import { readFile } from 'node:fs/promises';

const args = process.argv.slice(2);
const file = args.shift();
if (!file)
  throw new Error('usage: node bench/lib/profile-summary.js <profile> [--windows file] [--top N] [--part s] [names…]');
let top = 30;
let part;
let windowsFile;
const names = [];
while (args.length > 0) {
  const arg = args.shift();
  if (arg === '--top') top = Number(args.shift());
  else if (arg === '--part') part = args.shift();
  else if (arg === '--windows') windowsFile = args.shift();
  else names.push(arg);
}

const profile = JSON.parse(await readFile(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Which part of the platform a file is. */
function partOf(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules && modules[1] !== '@taidon') return `node_modules/${modules[1]}`;
  const own = /\/(services\/[^/]+|backend\/[^/]+|apps\/[^/]+|bench)\//.exec(url);
  if (own) return own[1];
  if (url.startsWith('node:')) return 'node:';
  return url;
}

// Time per sample: the gap to the next one (the last sample gets the mean gap).
const deltas = profile.timeDeltas ?? [];
const windows = windowsFile ? JSON.parse(await readFile(windowsFile, 'utf8')) : [[profile.startTime, profile.endTime]];
const inWindow = (t) => windows.some(([from, to]) => t >= from && t <= to);
const selfMs = new Map();
const samples = profile.samples ?? [];
let at = profile.startTime;
for (let i = 0; i < samples.length; i++) {
  at += deltas[i] ?? 0;
  if (!inWindow(at)) continue;
  const ms = (deltas[i + 1] ?? (profile.endTime - profile.startTime) / samples.length) / 1000;
  selfMs.set(samples[i], (selfMs.get(samples[i]) ?? 0) + ms);
}
const totalMs = windows.reduce((sum, [from, to]) => sum + (to - from), 0) / 1000;
const idle = [...selfMs].filter(([id]) => nodes.get(id).callFrame.functionName === '(idle)');
const idleMs = idle.reduce((sum, [, ms]) => sum + ms, 0);
const busyMs = totalMs - idleMs;

const byPart = new Map();
const byFunction = new Map();
for (const [id, ms] of selfMs) {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  if (functionName === '(idle)') continue;
  const p = partOf(url, functionName);
  byPart.set(p, (byPart.get(p) ?? 0) + ms);
  if (part && !url.includes(part)) continue;
  const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(services|backend|apps|node_modules)\//, '$1/')}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
}
// Each sample's owner: the nearest frame on its stack in a service's or workspace's own code (what called the
// package or Node code the sample is in); none for the event loop's own work (sockets read, timers).
const byOwner = new Map();
for (const [id, ms] of selfMs) {
  if (nodes.get(id).callFrame.functionName === '(idle)') continue;
  let owner = '(no own frame: sockets, timers, GC)';
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const own = /\/(services\/[^/]+|backend\/[^/]+|apps\/[^/]+|bench)\//.exec(nodes.get(at).callFrame.url);
    if (own && !/node_modules\/(?!@taidon)/.test(nodes.get(at).callFrame.url)) {
      owner = own[1];
      break;
    }
  }
  byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
}
const pct = (ms) => `${((100 * ms) / busyMs).toFixed(1)} % ${(ms / windows.length).toFixed(2).padStart(6)} ms/w`;
console.log(
  `profile ${(totalMs / 1000).toFixed(2)} s in ${windows.length} window(s), busy ${(busyMs / 1000).toFixed(2)} s` +
    ` (${(busyMs / windows.length).toFixed(2)} ms a window)`,
);
console.log('\nself time by part:');
for (const [p, ms] of [...byPart].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${ms.toFixed(0).padStart(7)} ms ${pct(ms).padStart(7)}  ${p}`);
}
console.log('\nby owner (the nearest own frame on the stack):');
for (const [p, ms] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${ms.toFixed(0).padStart(7)} ms ${pct(ms).padStart(7)}  ${p}`);
}
console.log(`\nfunctions by self time${part ? ` (files with ${part})` : ''}:`);
for (const [f, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${ms.toFixed(1).padStart(7)} ms ${pct(ms).padStart(7)}  ${f}`);
}

// Inclusive time of named functions: a sample counts once if any frame on its stack has the name.
if (names.length > 0) console.log('\ninclusive time:');
for (const name of names) {
  let ms = 0;
  for (const [id, t] of selfMs) {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      if (nodes.get(at).callFrame.functionName === name) {
        ms += t;
        break;
      }
    }
  }
  console.log(`  ${ms.toFixed(1).padStart(7)} ms ${pct(ms).padStart(7)}  ${name}`);
}
