#!/usr/bin/env node
/*
 * Build step, after tsc: replaces lib/verify/ajv.js (which requires ajv and ajv-formats) with a
 * self-contained, minified bundle of both, and writes their licenses beside it. ajv and its
 * dependencies weigh 1.6 MB installed; bundled they are about 0.15 MB, and only `verify` loads
 * them. esbuild-wasm has no platform binaries, so `npm ci` works on every platform.
 */
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild-wasm');

const root = path.join(__dirname, '..');
const out = path.join(root, 'lib', 'verify', 'ajv.js');
const BUNDLED = ['ajv', 'ajv-formats', 'fast-deep-equal', 'fast-uri', 'json-schema-traverse', 'require-from-string'];

async function main() {
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'src', 'verify', 'ajv.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    minify: true,
    legalComments: 'none',
    outfile: out,
    metafile: true,
    logLevel: 'warning',
  });
  const included = new Set(Object.keys(result.metafile.inputs)
    .map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter(Boolean));
  const unexpected = [...included].filter((p) => !BUNDLED.includes(p));
  if (unexpected.length > 0) throw new Error(`the ajv bundle pulled in ${unexpected.join(', ')}; add its license to BUNDLED`);
  const licenses = BUNDLED.filter((p) => included.has(p)).map((p) => {
    const dir = path.dirname(require.resolve(`${p}/package.json`, { paths: [root, path.dirname(require.resolve('ajv/package.json'))] }));
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    return `${p}@${pkg.version} (${pkg.license})\n\n${file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() : pkg.license}\n`;
  });
  // Its declarations re-export ajv's types, which the package does not install.
  fs.rmSync(path.join(root, 'lib', 'verify', 'ajv.d.ts'), { force: true });
  fs.writeFileSync(path.join(root, 'lib', 'verify', 'ajv.LICENSES.txt'),
    `lib/verify/ajv.js bundles these packages:\n\n${licenses.join('\n---\n\n')}`);
  console.log(`${path.relative(root, out)}: ${fs.statSync(out).size} bytes (${[...included].sort().join(', ')})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
