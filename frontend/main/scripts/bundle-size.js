// Prints the size of the production bundle, file by file and in total, so a
// build shows at once when a dependency bloats it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = process.argv[2] ?? 'dist';
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
};
walk(root);
let total = 0;
let totalGzip = 0;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const rows = files
  .map((path) => {
    const bytes = statSync(path).size;
    const gzip = /\.(js|css|html|svg)$/.test(path) ? gzipSync(readFileSync(path)).length : bytes;
    total += bytes;
    totalGzip += gzip;
    return { file: relative(root, path), bytes, gzip };
  })
  .sort((a, b) => b.bytes - a.bytes);
for (const row of rows)
  console.log(`${row.file.padEnd(48)} ${kib(row.bytes).padStart(12)} ${kib(row.gzip).padStart(12)} gzip`);
console.log(`${'bundle total'.padEnd(48)} ${kib(total).padStart(12)} ${kib(totalGzip).padStart(12)} gzip`);
