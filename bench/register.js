'use strict';
// Lets Node run the TypeScript files under bench/ (and test/faults/) as they are: each .ts file is
// compiled by SWC when it is required; `bench/…` and `test/…` imports resolve from the repository
// root (as tsc sees them), and `src/…` imports resolve to the build in dist/ (or
// RADD_DIST_DIR), so benchmarks measure the compiled code that production runs.
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { transformSync } = require('@swc/core');

const root = join(__dirname, '..');
const dist = process.env.RADD_DIST_DIR || join(root, 'dist');

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  let target = request;
  if (request.startsWith('bench/') || request.startsWith('test/')) target = join(root, request);
  else if (request.startsWith('src/')) target = join(dist, request.slice('src/'.length));
  return resolveFilename.call(this, target, ...rest);
};

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    swcrc: false,
    sourceMaps: 'inline',
    module: { type: 'commonjs' },
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
    },
  });
  module._compile(code, filename);
};
