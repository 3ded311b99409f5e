/**
 * `cdk8s-mlops verify <file-or-folder>...`: loads YAML, runs every offline check, prints the
 * plan of each pipeline and every problem, and exits non-zero on any error.
 */
import { parseCommandLine, UsageError, walkArgs } from './args';
import {
  ExternalRefs, formatLoadError, hasErrors, PipelinePlan, Problem, readManifests, renderPlans,
  schemaTimings, Severity, verifyObjects,
} from '../verify';

/** What a run-time simulation gets: everything the static checks saw and concluded. */
export interface SimulationInput {
  /** `--require-dry-run`: a dry run that cannot run (no kubectl, bash or jq) is an error, not a warning. */
  readonly requireDryRun?: boolean;
  readonly objects: readonly unknown[];
  readonly sources: readonly string[];
  readonly plans: readonly PipelinePlan[];
  readonly problems: readonly Problem[];
}

/** What it gives back: more problems (they count toward the exit code) and text to print. */
export interface SimulationReport {
  readonly problems: readonly Problem[];
  readonly text?: string;
}

/**
 * Hook for a run-time simulation of the pipelines (the coordinator against a fake API). Not
 * part of this layer: callers that have one pass it in `VerifyCliOptions.simulate`. It runs
 * only when the static checks found no error, since simulating a pipeline with a cycle or a
 * dangling step would only restate those errors.
 */
export type SimulateHook = (input: SimulationInput) => Promise<SimulationReport>;

export interface VerifyCliOptions {
  /** Where normal output goes. Default: process.stdout. */
  readonly out?: (text: string) => void;
  /** Where errors about the invocation go. Default: process.stderr. */
  readonly err?: (text: string) => void;
  /** Run-time simulation to run after the static checks. Default: none. */
  readonly simulate?: SimulateHook;
}

export const VERIFY_USAGE = `usage: cdk8s-mlops verify <file-or-folder or - for stdin>... [options]

Checks Kubernetes manifests offline: Kubernetes 1.27 schemas with unknown fields rejected,
names and labels, references between objects, and the cdk8s-mlops pipeline contract.
Prints each pipeline's plan and every problem; exits 1 on any error.

options:
  --external <kind/name>   a resource that exists outside these manifests (repeatable);
                           kind: secret, configmap, pvc, serviceaccount, role, clusterrole;
                           name may be namespace/name
  --namespace <ns>         namespace of objects that set none (default: default)
  --unknown-kinds <level>  error (default), warning or ignore, for kinds without a schema (CRDs)
  --strict                 exit 1 on warnings too
  --no-plan                do not print the plans
  --json                   print {"loadErrors": [...], "problems": [...], "plans": [...]} as JSON
  --timings                print schema load and validation times
  --no-simulate            skip the dry run of each pipeline's coordinator
  --require-dry-run        fail (exit 1) when the dry run cannot run; without it a missing
                           kubectl, bash or jq is a warning. The dry run uses the kubectl
                           named by MLOPS_KUBECTL, else kubectl on PATH, and says which
  -h, --help               show this help
`;

const EXTERNAL_KIND: Record<string, keyof ExternalRefs> = {
  secret: 'secrets', configmap: 'configMaps', persistentvolumeclaim: 'persistentVolumeClaims', pvc: 'persistentVolumeClaims',
  serviceaccount: 'serviceAccounts', sa: 'serviceAccounts', role: 'roles', clusterrole: 'clusterRoles',
};

interface Args {
  paths: string[];
  external: Record<string, string[]>;
  namespace?: string;
  unknownKinds?: Severity | 'ignore';
  strict: boolean;
  plan: boolean;
  json: boolean;
  timings: boolean;
  simulate: boolean;
  requireDryRun: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { paths: [], external: {}, strict: false, plan: true, json: false, timings: false, simulate: true, requireDryRun: false, help: false };
  walkArgs(argv, (arg, value) => {
    switch (arg) {
      case '-h':
      case '--help': args.help = true; break;
      case '--strict': args.strict = true; break;
      case '--no-plan': args.plan = false; break;
      case '--json': args.json = true; break;
      case '--timings': args.timings = true; break;
      case '--no-simulate': args.simulate = false; break;
      case '--require-dry-run': args.requireDryRun = true; break;
      case '--namespace': args.namespace = value(); break;
      case '--unknown-kinds': {
        const v = value();
        if (v !== 'error' && v !== 'warning' && v !== 'ignore') throw new UsageError(`--unknown-kinds must be error, warning or ignore, not "${v}"`);
        args.unknownKinds = v;
        break;
      }
      case '--external': {
        const v = value();
        const slash = v.indexOf('/');
        const key = slash > 0 ? EXTERNAL_KIND[v.slice(0, slash).toLowerCase()] : undefined;
        if (!key || slash === v.length - 1) {
          throw new UsageError(`--external takes kind/name with kind one of ${Object.keys(EXTERNAL_KIND).join(', ')}, not "${v}"`);
        }
        (args.external[key] ??= []).push(v.slice(slash + 1));
        break;
      }
      default:
        // A lone `-` is standard input, not an option.
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        args.paths.push(arg);
    }
  });
  return args;
}

function formatProblem(p: Problem): string {
  return `${p.severity}: ${p.message}${p.source ? `\n    in ${p.source}` : ''}`;
}

/** Runs `verify`; resolves to the process exit code (0 clean, 1 problems, 2 bad invocation). */
export async function main(argv: readonly string[], cli: VerifyCliOptions = {}): Promise<number> {
  const out = cli.out ?? ((t: string) => void process.stdout.write(t));
  const err = cli.err ?? ((t: string) => void process.stderr.write(t));
  const args = parseCommandLine('verify', VERIFY_USAGE, parseArgs, argv, { out, err });
  if (typeof args === 'number') return args;
  if (args.paths.length === 0) {
    err(`cdk8s-mlops verify: give at least one file or folder\n\n${VERIFY_USAGE}`);
    return 2;
  }

  // Each unreadable file is an error of its own; the readable ones are still checked.
  const loaded = readManifests(args.paths);
  const loadErrors = loaded.errors;

  const t0 = performance.now();
  const result = verifyObjects(loaded.objects, {
    namespace: args.namespace,
    unknownKinds: args.unknownKinds,
    external: args.external as ExternalRefs,
    sources: loaded.sources,
  });
  const verifyMs = performance.now() - t0;
  let problems = [...result.problems];

  let simulation: SimulationReport | undefined;
  let simulationSkipped = false;
  if (cli.simulate && args.simulate) {
    if (hasErrors(problems) || loadErrors.length > 0) simulationSkipped = true;
    else {
      simulation = await cli.simulate({ objects: loaded.objects, sources: loaded.sources, plans: result.plans, problems, requireDryRun: args.requireDryRun });
      problems = [...problems, ...simulation.problems];
    }
  }

  const errors = loadErrors.length + problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.filter((p) => p.severity !== 'error').length;
  const failed = errors > 0 || (args.strict && warnings > 0);

  if (args.json) {
    out(JSON.stringify({ loadErrors, problems, plans: result.plans, ...(simulation ? { simulation: simulation.text ?? null } : {}) }, null, 2) + '\n');
    return failed ? 1 : 0;
  }
  for (const e of loadErrors) out(`error: ${formatLoadError(e)}\n`);
  if (args.plan && result.plans.length) out(renderPlans(result.plans) + '\n');
  for (const p of problems) out(formatProblem(p) + '\n');
  if (simulation?.text) out(simulation.text.endsWith('\n') ? simulation.text : simulation.text + '\n');
  if (simulationSkipped) out('simulation skipped: fix the errors above first\n');
  const objects = loaded.objects.length;
  const files = loaded.files.length;
  out(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} in ${objects} object${objects === 1 ? '' : 's'} from ${files} file${files === 1 ? '' : 's'}\n`);
  if (args.timings) {
    const t = schemaTimings();
    out(`timings: schema collect ${t.collectMs.toFixed(0)} ms, prepare ${t.prepareMs.toFixed(0)} ms, compile ${t.compileMs.toFixed(0)} ms (${t.compiledKinds} kinds); verify total ${verifyMs.toFixed(0)} ms for ${objects} objects\n`);
  }
  return failed ? 1 : 0;
}
