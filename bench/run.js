#!/usr/bin/env node
'use strict';
// `npm run bench -- [benchmark…] [--duration s] [--warmup s] [--connections n]`
require('./register');
require('./main.ts');
