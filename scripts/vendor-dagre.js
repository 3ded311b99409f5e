#!/usr/bin/env node
'use strict';
/**
 * Copies the layout library of `cdk8s-mlops graph` (@dagrejs/dagre and @dagrejs/graphlib,
 * MIT) from the pinned dev dependency into assets/vendor/dagre, with dagre's require of
 * graphlib pointed at the copy beside it. Shipping these ~50 KB instead of depending on the
 * packages keeps their 2.3 MB of source maps and typings out of every user's install.
 * Run `npm run vendor` after updating @dagrejs/dagre; a test fails until the copy matches.
 */
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const target = path.join(root, 'assets', 'vendor', 'dagre');

/** The files of assets/vendor/dagre, by name, as they must be. */
function vendoredFiles() {
  const pkg = (name, from) => path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }));
  const dagre = pkg('@dagrejs/dagre', root);
  // The graphlib dagre itself resolves, whatever npm hoisted.
  const graphlib = pkg('@dagrejs/graphlib', dagre);
  const read = (dir, file) => fs.readFileSync(path.join(dir, file), 'utf8');
  const version = (dir) => JSON.parse(read(dir, 'package.json')).version;
  const dagreCode = read(dagre, 'dist/dagre.cjs');
  const requireGraphlib = 'require("@dagrejs/graphlib")';
  if (dagreCode.split(requireGraphlib).length !== 2) {
    throw new Error(`dist/dagre.cjs of @dagrejs/dagre ${version(dagre)} no longer requires graphlib exactly once; update this script`);
  }
  return {
    'dagre.cjs': dagreCode.replace(requireGraphlib, 'require("./graphlib.cjs")'),
    'graphlib.cjs': read(graphlib, 'dist/graphlib.cjs'),
    LICENSE: read(dagre, 'LICENSE'),
    'VERSIONS.txt': `@dagrejs/dagre ${version(dagre)}\n@dagrejs/graphlib ${version(graphlib)}\n`,
  };
}

if (require.main === module) {
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  for (const [name, text] of Object.entries(vendoredFiles())) fs.writeFileSync(path.join(target, name), text);
}

module.exports = { vendoredFiles, target };
