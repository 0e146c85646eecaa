#!/usr/bin/env node
// Builds dist/ when it is missing or older than any source file, so every npm command that runs
// compiled code works on a fresh clone and after a pull.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const inputs = [
  'src',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
  'package-lock.json',
];

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const sourceTime = Math.max(
  ...inputs
    .map((input) => join(root, input))
    .filter(existsSync)
    .map(newest),
);
if (existsSync(stamp) && statSync(stamp).mtimeMs >= sourceTime) process.exit(0);

process.stderr.write('Building Radd (dist/ is missing or older than src/)...\n');
execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build'], {
  cwd: root,
  // Build output goes to stderr: stdout is the command's own (a token, say).
  stdio: ['ignore', process.stderr, process.stderr],
});
writeFileSync(stamp, `${new Date().toISOString()}\n`);
