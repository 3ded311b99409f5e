#!/usr/bin/env node
'use strict';
// Thin wrapper: all logic lives in lib/cli/main.js (compiled from src/cli/main.ts) so it can be tested.
const { main } = require('../lib/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`cdk8s-mlops: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  },
);
