/**
 * `cdk8s-mlops status <pipeline> [-n ns] [--watch]`: each step's state and the run's outcome,
 * read from the cluster with the user's kubectl; the exit code says how the run ended, so a
 * CI job can wait on it.
 */
import { parseCommandLine, UsageError, walkArgs } from './args';
import { dnsLabelProblem } from '../model/names';
import { kubectlCommand, readJobs, ReadJobsError, readPlan } from '../status/read-jobs';
import { renderStatus } from '../status/render-status';
import { planConfigMapOf, RunOutcome, runStatus, RunStatus } from '../status/run-status';
import { asArray, asRecord, asString } from '../verify/types';

export const STATUS_USAGE = `usage: cdk8s-mlops status <pipeline> [-n <namespace>] [--watch] [--interval <seconds>]

Prints each step of the pipeline's run: waiting (on which upstream), running (since when),
complete, failed (with the reason), skipped (with the reason) or rejected by a gate; then
the run's elapsed time against its critical path. Reads the cluster with your kubectl
(MLOPS_KUBECTL, else kubectl on PATH): one \`kubectl get jobs -l mlops.cdk8s.io/pipeline=<p>
-o json\` per refresh, and once per coordinator \`kubectl get configmap\` of its plan, which
names steps whose Jobs were deleted (TTL) and what the coordinator recorded of them. It
changes nothing.

options:
  -n, --namespace <ns>   the pipeline's namespace (default: kubectl's current namespace)
  -w, --watch            refresh until the run ends; print whenever a step changes state
  --interval <seconds>   time between refreshes with --watch (default: 5)
  -h, --help             show this help

exit codes: 0 the run succeeded; 1 it is still running (without --watch); 2 bad
invocation; 3 the run failed; 4 a gate rejected the model; 5 the Jobs could not be read
(kubectl failed, or no Job of the pipeline exists)
`;

/** Exit codes by outcome; 3 and 4 are the coordinator's own (docs/coordinator-contract.md). */
const EXIT: Record<RunOutcome, number> = { succeeded: 0, running: 1, failed: 3, rejected: 4 };
const CANNOT_READ = 5;
/** Consecutive failed reads `--watch` tolerates (an API server restart) before giving up. */
const READ_RETRIES = 3;

export interface StatusCliOptions {
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
  /** The clock. Default: the system's. */
  readonly now?: () => Date;
  /** Waits between refreshes. Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Environment that names kubectl (MLOPS_KUBECTL) and that kubectl runs in. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Reads the Job list of one refresh. Default: `kubectl get jobs ... -o json` (`readJobs`);
   * tests of the refresh loop hand in a sequence of lists.
   */
  readonly readJobs?: (pipeline: string, namespace: string | undefined) => Promise<unknown>;
  /** Reads the `plan` key of a coordinator's ConfigMap. Default: `kubectl get configmap ... -o json` (`readPlan`). */
  readonly readPlan?: (configMap: string, namespace: string | undefined) => Promise<string | undefined>;
}

interface Args {
  pipeline?: string;
  namespace?: string;
  watch: boolean;
  intervalMs: number;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { watch: false, intervalMs: 5000, help: false };
  walkArgs(argv, (arg, value) => {
    switch (arg) {
      case '-h':
      case '--help': args.help = true; break;
      case '-w':
      case '--watch': args.watch = true; break;
      case '-n':
      case '--namespace': args.namespace = checkedName('namespace', value()); break;
      case '--interval': {
        const v = value();
        const seconds = Number(v);
        if (!/^\d+$/.test(v) || seconds < 1 || seconds > 3600) throw new UsageError(`--interval takes whole seconds from 1 to 3600, not "${v}"`);
        args.intervalMs = seconds * 1000;
        break;
      }
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        if (args.pipeline !== undefined) throw new UsageError(`give one pipeline, not "${args.pipeline}" and "${arg}"`);
        args.pipeline = checkedName('pipeline', arg);
    }
  });
  return args;
}

/** Both end up in a label selector or a flag: only a DNS label, so nothing else can be slipped in. */
function checkedName(what: string, value: string): string {
  const problem = dnsLabelProblem(value);
  if (problem) throw new UsageError(`${what} "${value}" is not a valid name: ${problem}`);
  return value;
}

/** Runs `status`; resolves to the process exit code (see STATUS_USAGE). */
export async function main(argv: readonly string[], cli: StatusCliOptions = {}): Promise<number> {
  const out = cli.out ?? ((t: string) => void process.stdout.write(t));
  const err = cli.err ?? ((t: string) => void process.stderr.write(t));
  const now = cli.now ?? (() => new Date());
  const sleep = cli.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const args = parseCommandLine('status', STATUS_USAGE, parseArgs, argv, { out, err });
  if (typeof args === 'number') return args;
  if (args.pipeline === undefined) {
    err(`cdk8s-mlops status: give the pipeline's name\n\n${STATUS_USAGE}`);
    return 2;
  }
  const pipeline = args.pipeline;
  const kubectl = kubectlCommand(cli.env);
  const read = cli.readJobs ?? ((p: string, ns: string | undefined) => readJobs(kubectl, p, ns, cli.env ?? process.env));
  const fetchPlan = cli.readPlan ?? ((cm: string, ns: string | undefined) => readPlan(kubectl, cm, ns, cli.env ?? process.env));
  const where = args.namespace ? `namespace ${args.namespace}` : 'the current namespace';
  // A coordinator's ConfigMap is named by its content's hash: read once, it never changes.
  const plans = new Map<string, string | undefined>();
  const planOf = async (configMap: string | undefined): Promise<string | undefined> => {
    if (configMap === undefined) return undefined;
    if (!plans.has(configMap)) {
      try {
        plans.set(configMap, await fetchPlan(configMap, args.namespace));
      } catch (e) {
        if (!(e instanceof ReadJobsError)) throw e;
        err(`note: cannot read the plan (ConfigMap ${configMap}), so steps whose Jobs were deleted (TTL) show as missing: ${e.message}\n`);
        plans.set(configMap, undefined);
      }
    }
    return plans.get(configMap);
  };

  let failures = 0;
  let shown = '';
  let toldMissing = false;
  for (;;) {
    let list: unknown;
    try {
      list = await read(pipeline, args.namespace);
      failures = 0;
    } catch (e) {
      if (!(e instanceof ReadJobsError)) throw e;
      err(`error: ${e.message}\n`);
      if (!args.watch || ++failures >= READ_RETRIES) return CANNOT_READ;
      await sleep(args.intervalMs);
      continue;
    }
    const at = now();
    const items = asArray(asRecord(list)?.items);
    if (items.length === 0) {
      if (!args.watch) {
        err(`error: no Job of pipeline ${pipeline} in ${where}; apply the pipeline, or pass -n <namespace>\n`);
        return CANNOT_READ;
      }
      if (!toldMissing) out(`no Job of pipeline ${pipeline} in ${where} yet; waiting for it to be applied\n`);
      toldMissing = true;
      await sleep(args.intervalMs);
      continue;
    }
    const run = runStatus(list, pipeline, at, await planOf(planConfigMapOf(list, pipeline)));
    const namespace = args.namespace ?? asString(asRecord(asRecord(items[0])?.metadata)?.namespace) ?? 'default';
    const final = run.outcome !== 'running';
    // With --watch, print when something a reader acts on changed, not every tick.
    const signature = stateSignature(run);
    if (!args.watch || final || signature !== shown) out(renderStatus(run, namespace, at));
    shown = signature;
    if (!args.watch || final) return EXIT[run.outcome];
    await sleep(args.intervalMs);
  }
}

function stateSignature(run: RunStatus): string {
  return JSON.stringify(run.steps.map((s) => [s.step, s.state, s.reason, s.waitingOn, s.activePods]));
}
