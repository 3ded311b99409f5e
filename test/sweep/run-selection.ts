import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import type { K8sObject } from '../support/synth';

/** What a trial left in the workspace: its metrics.json (a JSON object, or raw text) and a model file. */
export interface TrialFiles {
  readonly metrics?: Record<string, unknown> | string;
  readonly model?: string;
}

export interface SelectionRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The sandbox standing for the workspace's mount point. */
  readonly root: string;
  /** The selection's output folders, in the sandbox. */
  readonly modelOut: string;
  readonly boardOut: string;
  /** The values the script wrote into `$MLOPS_VALUES`, by file name, as text. */
  readonly values: Record<string, string>;
}

/** The selection's own container: the pod's last init container, before the values reporter. */
export function selectContainer(job: K8sObject): K8sObject {
  return job.spec.template.spec.initContainers.find((c: K8sObject) => c.name === 'select');
}

const MOUNT = '/mnt/workspace';
const VALUES = '/mnt/values';

/**
 * Runs the selection step's container command as synthesized (the script from its
 * ConfigMap, with real bash and jq) with the literal env of its Job, the workspace mounted at a temp
 * directory (and its values folder at another), trial files written where the trials write them, and `upstreamStates` where
 * the coordinator's annotation reaches the pod (the downward API env).
 */
export function runSelection(objects: K8sObject[], job: K8sObject, trials: Record<number, TrialFiles>, upstreamStates: string | undefined): SelectionRun {
  const root = mkdtempSync(join(tmpdir(), 'mlops-select-'));
  const c = selectContainer(job);
  const inSandbox = (path: string) => (path.startsWith(`${MOUNT}/`) ? join(root, path.slice(MOUNT.length))
    : path === VALUES ? join(root, 'values') : path);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const e of c.env) if (typeof e.value === 'string') env[e.name] = inSandbox(e.value);
  if (upstreamStates !== undefined) env.MLOPS_UPSTREAM_STATES = upstreamStates;
  // What the init container and the trials did: the output folders exist, trial files are in place.
  const prepare = job.spec.template.spec.initContainers.find((i: K8sObject) => i.name === 'prepare-outputs');
  for (const arg of prepare.command.slice(2)) mkdirSync(inSandbox(arg), { recursive: true });
  // The values folder is an emptyDir the pod starts with.
  mkdirSync(env.MLOPS_VALUES, { recursive: true });
  for (const [i, files] of Object.entries(trials)) {
    const write = (path: string, text: string) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    };
    if (files.metrics !== undefined) {
      write(join(env.MLOPS_INPUT_METRICS, i, 'metrics.json'), typeof files.metrics === 'string' ? files.metrics : JSON.stringify(files.metrics));
    }
    if (files.model !== undefined) write(join(env.MLOPS_INPUT_MODELS, i, 'model.txt'), files.model);
  }
  // The script as the pod sees it: the key of the ConfigMap mounted where the command reads it.
  const volume = job.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'library-script');
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name)!;
  const mount = c.volumeMounts.find((m: K8sObject) => m.name === 'library-script').mountPath;
  const script = join(root, 'script.sh');
  writeFileSync(script, configMap.data[c.command[1].slice(mount.length + 1)]);
  const p = spawnSync(c.command[0], [script], { env, encoding: 'utf8' });
  const values = Object.fromEntries(readdirSync(env.MLOPS_VALUES).sort().map((f) => [f, readFileSync(join(env.MLOPS_VALUES, f), 'utf8')]));
  return { status: p.status ?? -1, stdout: p.stdout, stderr: p.stderr, root, modelOut: env.MLOPS_OUTPUT_MODEL, boardOut: env.MLOPS_OUTPUT_LEADERBOARD, values };
}
