import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findAws, ObjectStoreModel, ObjectStoreOptions } from '../../src/verify/simulator/object-store';

export const ACCESS_KEY_ID = 'AKIAREGISTRYTEST';
export const BUCKET = 'ml-models';
const SCRIPT = path.join(__dirname, '..', '..', 'assets', 'registry-s3.sh');

export interface ScriptRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The S3 model on loopback and a sandbox directory; `run` executes assets/registry-s3.sh
 * with bash and the real AWS CLI v2 (first on PATH), as the registry's pods do, with the env
 * the library renders for `s3://ml-models/registry` plus `env`. Asynchronous: the store
 * answers from this process.
 */
export async function objectStoreFixture(options: Partial<ObjectStoreOptions> = {}) {
  const store = new ObjectStoreModel({ buckets: [BUCKET], accessKeyId: ACCESS_KEY_ID, ...options });
  const endpoint = await store.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-s3-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(findAws(), path.join(bin, 'aws'));
  let homes = 0;
  const scriptEnv = (env: Record<string, string>) => {
    const home = path.join(dir, `home-${++homes}`);
    fs.mkdirSync(home);
    return {
      PATH: `${bin}:/usr/bin:/bin`, HOME: home, TMPDIR: home,
      MLOPS_S3_BUCKET: BUCKET, MLOPS_S3_MODEL_PREFIX: 'registry/churn', MLOPS_S3_ENDPOINT: endpoint,
      AWS_DEFAULT_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: 'not-checked', AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    };
  };
  const run = (args: string[], env: Record<string, string> = {}) => new Promise<ScriptRun>((resolve) => {
    execFile('bash', [SCRIPT, ...args], { env: scriptEnv(env), timeout: 500_000 },
      (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }));
  });
  const children: ChildProcess[] = [];
  /** Starts the script in the background (the sync sidecar); stopped by close(). */
  const start = (args: string[], env: Record<string, string> = {}) => {
    const child = spawn('bash', [SCRIPT, ...args], { env: scriptEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += String(d); });
    child.stderr!.on('data', (d) => { out += String(d); });
    children.push(child);
    return { child, output: () => out };
  };
  /** Writes files below the sandbox; returns the folder. */
  const files = (folder: string, content: Record<string, string>) => {
    const root = path.join(dir, folder);
    for (const [p, c] of Object.entries(content)) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), c);
    }
    fs.mkdirSync(root, { recursive: true });
    return root;
  };
  /** Every file below a sandbox folder, by relative path. */
  const tree = (folder: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (d: string, rel: string) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (e.isDirectory()) walk(path.join(d, e.name), `${rel}${e.name}/`);
        else out[`${rel}${e.name}`] = fs.readFileSync(path.join(d, e.name), 'utf8');
      }
    };
    walk(path.join(dir, folder), '');
    return out;
  };
  const close = async () => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await store.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { store, endpoint, dir, run, start, files, tree, close };
}
