#!/usr/bin/env node
/*
 * Build step: writes assets/k8s-1.27-schemas.json.gz, the raw Kubernetes 1.27.1 OpenAPI
 * definitions verify validates against, from the dev dependency kubernetes-models@4.3.1 (the
 * only offline source of them). The package then ships ~0.3 MB of compressed JSON instead of
 * depending on kubernetes-models (20 MB). src/verify/schema-load.ts makes them strict.
 *
 * kubernetes-models keeps its schemas as CJS modules under `_schemas/`, one per definition,
 * each exporting `addSchema()`, which first calls `addSchema()` of every definition it
 * references and then `register(id, schema)` of `@kubernetes-models/validate`. We swap
 * `register` for a collector and run every `addSchema()` once.
 */
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

// A path argument writes elsewhere (the test compares a fresh extraction with the asset).
const OUT = process.argv[2] ?? path.join(__dirname, '..', 'assets', 'k8s-1.27-schemas.json.gz');

function collectRawSchemas() {
  const modelsDir = path.dirname(require.resolve('kubernetes-models/package.json'));
  const version = JSON.parse(fs.readFileSync(path.join(modelsDir, 'package.json'), 'utf8')).version;
  if (version !== '4.3.1') throw new Error(`kubernetes-models ${version} is installed; the 1.27.1 schemas are in 4.3.1 (run npm ci)`);
  const machineryDir = path.dirname(require.resolve('@kubernetes-models/apimachinery/package.json', { paths: [modelsDir] }));
  // Resolve `validate` the way the schema modules do, so we patch the very instance they call.
  const validateModule = require(require.resolve('@kubernetes-models/validate', { paths: [modelsDir] }));

  const modules = [];
  for (const dir of [modelsDir, machineryDir]) {
    const schemaDir = path.join(dir, '_schemas');
    for (const file of fs.readdirSync(schemaDir).filter((f) => f.endsWith('.js')).sort()) {
      modules.push(require(path.join(schemaDir, file)));
    }
  }
  // Each addSchema() re-runs the addSchema() of everything it references, without memo; a
  // run-once guard makes collection linear (and safe against reference cycles).
  const once = [];
  for (const m of modules) {
    if (typeof m.addSchema !== 'function') continue;
    const original = m.addSchema;
    let done = false;
    m.addSchema = () => {
      if (done) return;
      done = true;
      original();
    };
    once.push(m);
  }
  const collected = new Map();
  validateModule.register = (id, schema) => collected.set(id, schema);
  for (const m of once) m.addSchema();
  if (collected.size < 500) {
    throw new Error(`kubernetes-models registered only ${collected.size} schemas; expected about 800`);
  }
  return collected;
}

const schemas = collectRawSchemas();
const sorted = Object.fromEntries([...schemas.keys()].sort().map((id) => [id, schemas.get(id)]));
const gz = zlib.gzipSync(JSON.stringify(sorted), { level: 9 });
fs.writeFileSync(OUT, gz);
console.log(`${path.relative(process.cwd(), OUT)}: ${schemas.size} schemas, ${gz.length} bytes`);
