/**
 * What the dry run checks before it runs anything: it executes the coordinator with the
 * host's bash as the user who runs verify (in CI, on YAML from pull requests), so it runs
 * only what this version of the library generates. The script must be byte-identical to
 * ours, the container must start it the way ours does, and its environment can only carry
 * the coordinator's own MLOPS_* settings and paths inside its mounts: an edited script, a
 * `bash -c`, or BASH_ENV / LD_PRELOAD / exported functions would all run the YAML's code.
 *
 * The plan (a ConfigMap key too) needs no such check: it is data, read by jq with --rawfile
 * and split into step and Job names, never executed or sourced; those names only reach
 * kubectl as arguments, and kubectl only talks to the simulated API server.
 */
import { COORDINATOR_COMMAND } from '../backends/plain/coordinator';
import { coordinatorScript, registryS3Script, shippedScripts } from '../backends/plain/assets';
import { OBJECT_STORE_ENV } from './dry-run-object-store';
import type { LibraryContainer } from '../verify/simulator';
import type { PipelinePlan, Problem } from '../verify';

type Obj = Record<string, any>;

/** Variables the coordinator reads; any other (BASH_ENV, LD_PRELOAD, PATH, BASH_FUNC_*) could run code. */
const ALLOWED_ENV = /^(MLOPS_[A-Z0-9_]+|HOME)$/;

/** Why the dry run must not run this pipeline's coordinator, as problems; empty when it may. */
export function dryRunRefusals(objects: readonly unknown[], plan: PipelinePlan): Problem[] {
  const all = objects as Obj[];
  const ns = (o: Obj) => o?.metadata?.namespace ?? plan.namespace;
  const job = all.find((o) => o?.kind === 'Job' && o.metadata?.name === plan.coordinator && ns(o) === plan.namespace);
  if (!job) return [];
  const jobLabel = `Job/${plan.namespace}/${plan.coordinator}`;
  const refuse = (object: string, path: string, rule: string, what: string, fix: string): Problem => ({
    object, path, severity: 'error', rule,
    message: `${object}: ${what}; the dry run would execute it with your bash as your user, so it was not run: ${fix}`,
    fix,
  });
  const regenerate = 'regenerate the YAML with cdk8s synth and this version of cdk8s-mlops, and do not edit it by hand';
  const pod = job.spec?.template?.spec ?? {};
  const containers: Obj[] = pod.containers ?? [];
  const index = Math.max(0, containers.findIndex((c) => [...(c.command ?? []), ...(c.args ?? [])].some((a: unknown) => String(a).includes('coordinate.sh'))));
  const container = containers[index] ?? {};
  const at = `/spec/template/spec/containers/${index}`;
  const problems: Problem[] = [];

  const command = [...(container.command ?? []), ...(container.args ?? [])];
  if (JSON.stringify(command) !== JSON.stringify(COORDINATOR_COMMAND)) {
    problems.push(refuse(jobLabel, `${at}/command`, 'dry-run/command-modified',
      `the coordinator container runs ${JSON.stringify(command)}, not ${JSON.stringify(COORDINATOR_COMMAND)} as cdk8s-mlops writes it`, regenerate));
  }
  if (container.envFrom !== undefined) {
    problems.push(refuse(jobLabel, `${at}/envFrom`, 'dry-run/env-modified', 'the coordinator container takes variables from envFrom, which cdk8s-mlops never writes', regenerate));
  }
  const mounts: string[] = (container.volumeMounts ?? []).map((m: Obj) => String(m.mountPath).replace(/\/+$/, ''));
  (container.env ?? []).forEach((e: Obj, i: number) => {
    const value = e.value === undefined ? undefined : String(e.value);
    const path = `${at}/env/${i}`;
    const outside = value !== undefined
      && (value.split('/').includes('..') || (value.startsWith('/') && !mounts.some((m) => value === m || value.startsWith(`${m}/`))));
    if (!ALLOWED_ENV.test(String(e.name))) {
      problems.push(refuse(jobLabel, path, 'dry-run/env-modified', `the coordinator container sets ${e.name}, a variable cdk8s-mlops never sets (the shell or loader may act on it)`, regenerate));
    } else if (e.valueFrom !== undefined && e.valueFrom.fieldRef === undefined) {
      problems.push(refuse(jobLabel, path, 'dry-run/env-modified', `${e.name} is read from another object, where cdk8s-mlops only uses the downward API`, regenerate));
    } else if (outside) {
      problems.push(refuse(jobLabel, path, 'dry-run/env-modified', `${e.name} is '${value}', a path outside the container's own mounts, which would point into the machine running verify`, regenerate));
    }
  });

  for (const volume of pod.volumes ?? []) {
    const name = volume?.configMap?.name;
    const configMap = name && all.find((o) => o?.kind === 'ConfigMap' && o.metadata?.name === name && ns(o) === plan.namespace);
    const script = configMap?.data?.['coordinate.sh'];
    if (script === undefined || script === coordinatorScript()) continue;
    problems.push(refuse(`ConfigMap/${plan.namespace}/${name}`, '/data/coordinate.sh', 'dry-run/script-modified',
      `the coordinator script differs from the one this version of cdk8s-mlops generates (${firstDifference(String(script), coordinatorScript())})`, regenerate));
  }
  return problems;
}

/**
 * Why the dry run must not run a library container (a gate's) as a process, or undefined:
 * like the coordinator, it runs only a script this version ships, byte for byte, with only
 * MLOPS_* variables and HOME (JOB_COMPLETION_INDEX in an Indexed Job), and no path outside
 * the container's own mounts.
 */
export function libraryContainerRefusal(c: LibraryContainer): string | undefined {
  if (!shippedScripts().includes(c.script)) return 'its script is not one this version of cdk8s-mlops ships; regenerate the YAML with cdk8s synth';
  const objectStore = c.script === registryS3Script();
  for (const [name, value] of Object.entries(c.env)) {
    if (!ALLOWED_ENV.test(name) && name !== 'JOB_COMPLETION_INDEX' && !(objectStore && OBJECT_STORE_ENV.includes(name))) return `it sets ${name}, a variable cdk8s-mlops never sets (the shell or loader may act on it)`;
    if (value.split('/').includes('..') || (value.startsWith('/') && !c.mountPaths.some((m) => value === m || value.startsWith(`${m}/`)))) {
      return `${name} is '${value}', a path outside the container's own mounts`;
    }
  }
  return undefined;
}

/** Where two different texts first differ, as a line number, for the message. */
function firstDifference(found: string, expected: string): string {
  const a = found.split('\n');
  const b = expected.split('\n');
  let i = 0;
  while (a[i] === b[i]) i++;
  return `first difference at line ${i + 1}`;
}
