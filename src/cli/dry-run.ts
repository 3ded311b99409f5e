/**
 * The run-time half of `cdk8s-mlops verify`: runs each pipeline's coordinator script, as
 * written in the YAML, with the real kubectl against the simulated cluster, with every step
 * succeeding. It proves the script and its RBAC carry the pipeline to completion in
 * dependency order, which no schema can.
 *
 * The dry run needs a real kubectl: $MLOPS_KUBECTL, else `kubectl` on PATH (the kubectl of
 * this repository's dev dependency is not shipped with the library). Without one the dry
 * run is skipped with a warning, never silently: verify's static checks still stand on a
 * machine without kubectl, and `--strict` or `--require-dry-run` (for CI) make it an error.
 */
import { spawnSync } from 'child_process';
import { promotionHookRefusal, promotionInputs } from './dry-run-promotion';
import { dryRunRefusals, libraryContainerRefusal } from './dry-run-safety';
import { dnsLabelProblem } from '../model/names';
import { valueNameProblem } from '../model/step-value';
import type { ManifestObject, SimulateOptions, SimulationResult } from '../verify/simulator';
import { findKubectl, KubectlClient, NoKubectlError, ObjectStoreModel, simulate } from '../verify/simulator';
import { isLibraryContainer, libraryImages } from '../verify/simulator/library-pods';
import { DRY_RUN_ACCESS_KEY_ID, objectStoreStandIns } from './dry-run-object-store';
import type { PipelinePlan, Problem } from '../verify';
import type { SimulateHook, SimulationReport } from './verify';

/** How long each simulated step runs when its timeout allows; only ratios to the poll interval matter. */
export const STEP_SECONDS = 60;

/** The tools the coordinator script needs besides kubectl, as on the registry.k8s.io/kubectl image. */
const TOOLS = ['bash', 'jq'];

/**
 * Wall-clock budget of one dry run: a base for the process starts, plus the real cost of
 * each step (a release is a kubectl GET and PATCH, a completion a ledger patch, and every
 * poll runs jq over the whole Job list), so a large pipeline is not failed for its size.
 */
export function dryRunBudgetMs(steps: number): number {
  return 120_000 + 400 * steps;
}

/**
 * What a pipeline's dry run simulates: every step succeeds after `STEP_SECONDS`, or less
 * where that would not fit the step's own `activeDeadlineSeconds` (half of it) or the run
 * deadline (the critical path, one poll per level included, fits in half of it).
 */
export function dryRunOptions(plan: PipelinePlan, objects: readonly ManifestObject[]): SimulateOptions {
  const own = objects.filter((o) => o?.metadata?.labels?.['mlops.cdk8s.io/pipeline'] === plan.pipeline);
  const coordinator = own.find((o) => o.kind === 'Job' && o.metadata.name === plan.coordinator);
  const env: any[] = coordinator?.spec?.template?.spec?.containers?.[0]?.env ?? [];
  const num = (name: string) => Number(env.find((e) => e.name === name)?.value ?? 0) || 0;
  const deadline = num('MLOPS_RUN_DEADLINE_SECONDS');
  const poll = num('MLOPS_POLL_SECONDS') || 10;
  const depth = Math.max(1, plan.criticalPath.length);
  const runCap = deadline > 0 ? Math.floor((deadline / 2 / depth) - poll) : STEP_SECONDS;
  const steps: Record<string, { durations: number[]; files?: Record<string, string> }> = {};
  for (const s of plan.steps) {
    const job = own.find((o) => o.kind === 'Job' && o.metadata.name === s.job);
    const timeout = Number(job?.spec?.activeDeadlineSeconds ?? 0);
    const seconds = Math.max(1, Math.min(STEP_SECONDS, runCap, timeout > 0 ? Math.floor(timeout / 2) : STEP_SECONDS));
    const values = declaredValues(job, own);
    steps[s.step] = values ? { durations: [seconds], files: values } : { durations: [seconds] };
  }
  // A gate runs its real script: the evaluation it judges succeeds with metrics that meet
  // every absolute threshold, so that the gate approves.
  for (const s of plan.steps) {
    const job = own.find((o) => o.kind === 'Job' && o.metadata.name === s.job);
    const genv: any[] = job?.spec?.template?.spec?.containers?.[0]?.env ?? [];
    const value = (name: string) => genv.find((e) => e?.name === name)?.value;
    const metrics = gateMetrics(value('MLOPS_GATE_THRESHOLDS'));
    const dir = value('MLOPS_INPUT_METRICS');
    const producer = s.upstreams.length === 1 ? steps[s.upstreams[0]] : undefined;
    if (metrics && typeof dir === 'string' && producer) producer.files = { ...producer.files, [`${dir}/metrics.json`]: JSON.stringify(metrics) };
  }
  for (const [step, files] of Object.entries(sweepTrialFiles(own))) {
    if (steps[step]) steps[step] = { ...steps[step], files: { ...steps[step].files, ...files } };
  }
  // A promotion runs its real script: the training step leaves a model for it to publish.
  for (const [step, files] of Object.entries(promotionInputs(plan.steps, own))) steps[step] = { ...steps[step], files: { ...steps[step]?.files, ...files } };
  return {
    pipeline: plan.pipeline, namespace: plan.namespace, steps, timeoutMs: dryRunBudgetMs(plan.steps.length),
    // Only what the package ships, and of a promotion's hooks only the restart it generates.
    allowLibraryContainer: (c) => libraryContainerRefusal(c) ?? promotionHookRefusal(c.env),
  };
}

/** Metrics meeting a gate's absolute thresholds (each at its bound), from its MLOPS_GATE_THRESHOLDS. */
function gateMetrics(json: unknown): Record<string, number> | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const thresholds: unknown = JSON.parse(json);
    if (!Array.isArray(thresholds)) return undefined;
    return Object.fromEntries(thresholds.filter((t) => typeof t?.metric === 'string' && typeof t.value === 'number').map((t) => [t.metric, t.value]));
  } catch {
    return undefined;
  }
}

/**
 * What a sweep's trials write in a dry run, so that its selection (a library container,
 * run for real) finds a result: the objective's metric as 0 in `metrics.json` and a model
 * file. Read from the selection Job's `MLOPS_SELECT_TRIALS` and `MLOPS_SELECT_METRIC`; the
 * YAML is untrusted, so only step names are taken from it, and the metric only as JSON text.
 */
function sweepTrialFiles(own: readonly ManifestObject[]): Record<string, Record<string, string>> {
  const files: Record<string, Record<string, string>> = {};
  for (const job of own.filter((o) => o.kind === 'Job')) {
    // The selection's container is the last init container: the values reporter follows it.
    const pod = job.spec?.template?.spec;
    const env: any[] = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].flatMap((c: any) => c?.env ?? []);
    const value = (name: string) => env.find((e) => e?.name === name)?.value;
    const metric = value('MLOPS_SELECT_METRIC');
    let trials: unknown;
    try {
      trials = JSON.parse(value('MLOPS_SELECT_TRIALS'));
    } catch {
      continue;
    }
    if (typeof metric !== 'string' || !Array.isArray(trials)) continue;
    for (const t of trials) {
      if (typeof t?.step !== 'string' || dnsLabelProblem(t.step)) continue;
      files[t.step] = { '$MLOPS_OUTPUT_METRICS/metrics.json': JSON.stringify({ [metric]: 0 }), '$MLOPS_OUTPUT_MODEL/dry-run': '' };
    }
  }
  return files;
}

/** What a step that declares values writes in a dry run: each value as its type's zero, so its reporter accepts it. */
const ZERO: Readonly<Record<string, string>> = { string: '', number: '0', boolean: 'false', json: '{}' };

/**
 * The files a values step's container writes in a dry run (`$MLOPS_VALUES/<name>`), from
 * the reporter's `MLOPS_VALUE_TYPES`; undefined for a step without values, and for a step
 * whose values a library script writes for real (a sweep's selection). Conditions on them
 * then take one branch, and the others are skipped as a result.
 */
function declaredValues(job: ManifestObject | undefined, own: readonly ManifestObject[]): Record<string, string> | undefined {
  const pod = job?.spec?.template?.spec ?? {};
  const containers: any[] = pod.containers ?? [];
  const types = containers.flatMap((c) => c.env ?? []).find((e: any) => e.name === 'MLOPS_VALUE_TYPES')?.value;
  if (typeof types !== 'string') return undefined;
  // The step's own container is the last init container; the reporter follows it.
  const writer = (pod.initContainers ?? []).at(-1);
  if (writer && isLibraryContainer(writer, pod, own, libraryImages(own))) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(types);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  // The YAML is untrusted: a name that is not a value name could point the file elsewhere.
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>)
    .filter(([name]) => valueNameProblem(name) === undefined)
    .map(([name, type]) => [`$MLOPS_VALUES/${name}`, ZERO[String(type)] ?? '']));
}

export const dryRun: SimulateHook = async ({ objects, plans, requireDryRun }) => {
  const unavailable = (message: string, fix: string, severity: Problem['severity'] = requireDryRun ? 'error' : 'warning'): SimulationReport => ({
    problems: [problem('cluster', severity, 'simulation-unavailable', message, fix)],
  });
  const missing = TOOLS.filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) {
    return unavailable(`dry run skipped: the coordinator script needs ${missing.join(' and ')} on PATH, as its image has`,
      `install ${missing.join(' and ')} (e.g. apt-get install ${missing.join(' ')}), or pass --no-simulate`);
  }
  let client: KubectlClient;
  try {
    client = findKubectl({ layer: false });
  } catch (e) {
    if (!(e instanceof NoKubectlError)) throw e;
    // A client named explicitly that does not work is a mistake, not an absence.
    if (process.env.MLOPS_KUBECTL) return unavailable(`dry run skipped: ${e.message}`, 'point MLOPS_KUBECTL at a kubectl binary', 'error');
    return unavailable('dry run skipped: no kubectl found (set MLOPS_KUBECTL or put kubectl on PATH)',
      'install kubectl 1.27 or later, or pass --no-simulate; --require-dry-run makes this an error (for CI)');
  }
  const problems: Problem[] = [];
  const lines: string[] = [`dry runs use kubectl ${client.path} (from ${client.source}): Client Version: ${client.version}`];
  for (const plan of plans) {
    if (!plan.coordinator) continue;
    const refusals = dryRunRefusals(objects, plan);
    if (refusals.length > 0) {
      problems.push(...refusals);
      lines.push(`dry run of ${plan.pipeline}: not run, its coordinator is not the one cdk8s-mlops generates (see the errors above)`);
      continue;
    }
    const own = (objects as ManifestObject[]).filter((o) => o?.metadata?.labels?.['mlops.cdk8s.io/pipeline'] === plan.pipeline);
    const options = dryRunOptions(plan, own);
    // A model registry on an object store: an empty S3 model on loopback, and stand-ins for the Secrets of its key.
    const standIns = objectStoreStandIns(own, plan.namespace);
    const store = standIns && new ObjectStoreModel({ buckets: standIns.buckets, accessKeyId: DRY_RUN_ACCESS_KEY_ID });
    if (store) await store.start();
    let result: SimulationResult;
    try {
      result = await simulate([...own, ...(standIns?.secrets ?? [])], { ...options, kubectl: client.path, objectStore: store && { endpoint: store.endpoint } });
    } finally {
      await store?.stop();
    }
    const steps = Object.values(result.steps);
    const completed = steps.filter((s) => s.outcome === 'complete').length;
    // Exit 0 with a clean run: the simulator has checked that every step not complete was
    // skipped as a result (a trigger rule or a condition), not by a failure.
    if (result.ok && result.exitCode === 0) {
      const perPoll = Math.max(...result.polls.map((p) => p.list));
      const shorter = Object.values(options.steps ?? {}).filter((b) => b.durations![0] < STEP_SECONDS).length;
      const done = completed === steps.length ? `all ${steps.length} steps completed` : `${completed} of ${steps.length} steps completed, ${steps.length - completed} skipped by their trigger rule or condition,`;
      lines.push(`dry run of ${plan.pipeline}: ${done} in ${result.makespan}s simulated `
        + `(${STEP_SECONDS}s per step${shorter ? `, less for ${shorter} with a shorter timeout` : ''}, critical path ${plan.criticalPath.length} steps); `
        + `at most ${result.maxConcurrent} at once; ${perPoll} list call per poll`);
      continue;
    }
    const why = result.errors.length > 0 ? result.errors.join('; ') : `the coordinator exited ${result.exitCode ?? 'never'}`;
    problems.push(problem(`Job/${plan.namespace}/${plan.coordinator}`, 'error', 'simulation-failed',
      `dry run of pipeline '${plan.pipeline}' did not complete (${completed} of ${steps.length} steps): ${why}`,
      'read the coordinator log below; regenerate the YAML with cdk8s synth rather than editing it by hand'));
    lines.push(`coordinator log of ${plan.pipeline}:\n${result.coordinator.stdout}${result.coordinator.stderr}`);
  }
  const report: SimulationReport = { problems, text: lines.join('\n') };
  return report;
};

function problem(object: string, severity: Problem['severity'], rule: string, message: string, fix: string): Problem {
  return { object, path: '', severity, rule, message, fix };
}
