#!/usr/bin/env node
'use strict';
// `npm run test:faults -- [scenario…] [--full]`: the fault-injection tests (see test/faults/main.ts).
require('../../bench/register');
require('./main.ts');
