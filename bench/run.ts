/**
 * `npm run bench`: synth speed, scaling and output size of cdk8s-mlops against the raw
 * cdk8s-plus-27 floor. Prints tables, then, as its last line, one JSON object (see
 * bench/README.md for every key).
 *
 * Every measurement is a fresh child process; ours and the baseline alternate within
 * each round (and swap who goes first every round), so machine noise hits both alike.
 * Figures are medians. Environment:
 *   BENCH_QUICK=1         fewer runs and sizes up to 1000, for a smoke test
 *   BENCH_RUNS_SCALE=2    multiply every run count
 *   BENCH_TS_BIN=<dir>    a node_modules/.bin holding ts-node and/or tsx (not dependencies
 *                         of this package): also time the example run from its .ts source
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { cpus, tmpdir } from 'os';
import { join, relative, resolve } from 'path';
import { apiLoad, pollCost } from './coordinator';
import { fanOutDag, randomDag, Shape } from './dag';
import { installFootprint, pack } from './footprint';

const ROOT = resolve(__dirname, '..', '..');
const CHILD = join(__dirname, 'child.js');
const FLOOR = join(__dirname, 'floor.js');
const CHURN_APP = join(__dirname, 'churn-app.js');
const QUICK = process.env.BENCH_QUICK === '1';
const SCALE = Number(process.env.BENCH_RUNS_SCALE ?? '1') || 1;

const SIZES = QUICK ? [10, 100, 1000] : [10, 100, 500, 1000, 5000];
const RUNS: Record<number, number> = QUICK
  ? { 10: 3, 100: 3, 1000: 3 }
  : { 10: 9, 100: 9, 500: 7, 1000: 7, 5000: 5 };
const VALIDATE_RUNS = QUICK ? 3 : 7;
const FANOUT_N = QUICK ? 1000 : 5000;
const FANOUT_RUNS = QUICK ? 1 : 3;
const COLD_RUNS = QUICK ? 5 : 15;
const CLI_RUNS = QUICK ? 2 : 5;
const POLL_SIZES = [100, 1000, 5000];
const POLL_RUNS = QUICK ? 3 : 7;
const API_LOAD_STEPS = 100;

const runs = (n: number) => Math.max(1, Math.round(RUNS[n] * SCALE));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

const scratch = mkdtempSync(join(tmpdir(), 'mlops-bench-'));
let seq = 0;
const freshDir = () => join(scratch, `o${seq++}`);

interface ChildResult {
  mode: string;
  n: number;
  constructMs: number;
  synthMs?: number;
  totalMs?: number;
  validateMs?: number;
  bytes?: number;
  docs?: number;
  peakRssMb: number;
}

function child(mode: 'ours' | 'baseline' | 'validate', n: number, shape: Shape = 'dag'): ChildResult {
  const outdir = freshDir();
  const p = spawnSync(process.execPath, [CHILD, mode, String(n), outdir, shape], { encoding: 'utf8', maxBuffer: 1 << 26 });
  rmSync(outdir, { recursive: true, force: true });
  if (p.status !== 0) throw new Error(`child ${mode} ${n} ${shape} failed (${p.status}):\n${p.stderr}`);
  const lines = p.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as ChildResult;
}

/** Wall time of a shell command run as a fresh process, as `cdk8s synth` runs `app:`. */
function wall(command: string, env: Record<string, string> = {}): number {
  const outdir = freshDir();
  const t0 = process.hrtime.bigint();
  const p = spawnSync(command, {
    shell: true, cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26,
    env: { ...process.env, CDK8S_OUTDIR: outdir, ...env },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(outdir, { recursive: true, force: true });
  if (p.status !== 0) throw new Error(`'${command}' failed (${p.status}):\n${p.stderr}`);
  return ms;
}

/**
 * The synthesizing part of cdk8s.yaml's `app:` command: its last `&&` step. The steps before
 * it compile incrementally (a no-op once built) and are not what a user's synth costs.
 */
function appCommand(): string {
  const m = /^app:\s*(.+)$/m.exec(readFileSync(join(ROOT, 'cdk8s.yaml'), 'utf8'));
  if (!m) throw new Error('cdk8s.yaml has no app: line');
  return m[1].split('&&').pop()!.trim();
}

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`# cdk8s-mlops bench — ${new Date().toISOString()}`);
  log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ${process.platform}/${process.arch}`);
  log(`runs per size: ${SIZES.map((n) => `${n}: ${runs(n)}`).join(', ')}; each a fresh process; medians`);
  log(`workload: seeded random DAG per size: ${SIZES.map((n) => {
    const d = randomDag(n);
    return `${n} steps = ${d.levels} levels, ${d.edges} edges, widest ${d.maxWidth}`;
  }).join('; ')}`);
  log();

  // --- synth: ours vs the raw cdk8s-plus-27 baseline, alternating --------------------
  const ours: Record<number, ChildResult[]> = {};
  const base: Record<number, ChildResult[]> = {};
  for (const n of SIZES) {
    ours[n] = [];
    base[n] = [];
    // One untimed warm-up pair per size, so the file cache is warm for both.
    child('ours', n);
    child('baseline', n);
    for (let i = 0; i < runs(n); i++) {
      if (i % 2 === 0) {
        ours[n].push(child('ours', n));
        base[n].push(child('baseline', n));
      } else {
        base[n].push(child('baseline', n));
        ours[n].push(child('ours', n));
      }
    }
    process.stderr.write(`  synth ${n} done\n`);
  }
  const med = (rs: ChildResult[], k: keyof ChildResult) => median(rs.map((r) => r[k] as number));

  log('## Synth (construct + app.synth() to a temp dir, in a fresh process; module loading excluded)');
  log('| steps | runs | cdk8s-mlops ms | raw cdk8s-plus ms | ratio | paired ratio | ms/step ours | peak RSS ours / raw MB | bytes/step ours / raw | size ratio |');
  log('|---|---|---|---|---|---|---|---|---|---|');
  const synthMs: Record<string, number> = {};
  const baselineMs: Record<string, number> = {};
  for (const n of SIZES) {
    const o = med(ours[n], 'totalMs');
    const b = med(base[n], 'totalMs');
    const paired = median(ours[n].map((r, i) => r.totalMs! / base[n][i].totalMs!));
    synthMs[n] = r1(o);
    baselineMs[n] = r1(b);
    const ob = ours[n][0].bytes! / n;
    const bb = base[n][0].bytes! / n;
    log(`| ${n} | ${runs(n)} | ${r1(o)} | ${r1(b)} | ${r2(o / b)} | ${r2(paired)} | ${r3(o / n)} | `
      + `${r1(med(ours[n], 'peakRssMb'))} / ${r1(med(base[n], 'peakRssMb'))} | ${Math.round(ob)} / ${Math.round(bb)} | ${r2(ob / bb)} |`);
  }
  log();
  const split = SIZES[SIZES.length - 1];
  log(`split at ${split} steps (medians): construct ${r1(med(ours[split], 'constructMs'))} / ${r1(med(base[split], 'constructMs'))} ms, `
    + `app.synth() ${r1(med(ours[split], 'synthMs'))} / ${r1(med(base[split], 'synthMs'))} ms (ours / raw)`);
  log();

  // --- validation alone at the largest size --------------------------------------------
  const validate = Array.from({ length: VALIDATE_RUNS }, () => child('validate', split));
  log(`## Validation alone (graph, cycles, step specs, derived names, warnings: node.validate() on every construct), ${split} steps`);
  log(`median ${r1(med(validate, 'validateMs'))} ms over ${VALIDATE_RUNS} runs `
    + `(min ${r1(Math.min(...validate.map((v) => v.validateMs!)))}, max ${r1(Math.max(...validate.map((v) => v.validateMs!)))})`);
  log();

  // --- the widest shape: a sweep (prepare -> N trials -> select) ---------------------------
  const fan = fanOutDag(FANOUT_N);
  const fanOurs: ChildResult[] = [];
  const fanBase: ChildResult[] = [];
  for (let i = 0; i < FANOUT_RUNS; i++) {
    fanOurs.push(child('ours', FANOUT_N, 'fanout'));
    fanBase.push(child('baseline', FANOUT_N, 'fanout'));
  }
  const fanValidate = Array.from({ length: VALIDATE_RUNS }, () => child('validate', FANOUT_N, 'fanout'));
  const fanO = med(fanOurs, 'totalMs');
  const fanB = med(fanBase, 'totalMs');
  log(`## Sweep shape, ${FANOUT_N} steps (1 prepare, ${fan.maxWidth} trials ready at once, 1 select after all; ${FANOUT_RUNS} runs)`);
  log(`synth ${r1(fanO)} ms vs raw ${r1(fanB)} ms (ratio ${r2(fanO / fanB)}); validation alone ${r1(med(fanValidate, 'validateMs'))} ms; `
    + `bytes/step ${Math.round(fanOurs[0].bytes! / FANOUT_N)} vs ${Math.round(fanBase[0].bytes! / FANOUT_N)}`);
  log();

  // --- cold start: one example app, and every example, vs the empty-chart floor ---------
  // The target is about one app as a user runs it (the churn example, compiled, by node);
  // the cdk8s.yaml app, every example in one process, is a separate figure. Each round runs
  // the three in a rotating order, so machine noise hits them alike.
  const app = appCommand();
  const floor = `node ${JSON.stringify(FLOOR)}`;
  const churnApp = `node ${JSON.stringify(CHURN_APP)}`;
  const coldCommands = [churnApp, floor, app];
  const coldTimes: number[][] = coldCommands.map(() => []);
  for (const command of coldCommands) wall(command);
  for (let i = 0; i < COLD_RUNS; i++) {
    for (let j = 0; j < coldCommands.length; j++) {
      const k = (i + j) % coldCommands.length;
      coldTimes[k].push(wall(coldCommands[k]));
    }
  }
  const [cold, coldFloor, coldAll] = coldTimes;
  // The whole `cdk8s synth` (CLI start, app, the validation plugins of cdk8s.yaml), for
  // information only; --output keeps it away from dist/.
  const cli: number[] = [];
  const cliBin = join(ROOT, 'node_modules', '.bin', 'cdk8s');
  try {
    for (let i = 0; i < CLI_RUNS; i++) {
      const outdir = freshDir();
      cli.push(wall(`${JSON.stringify(cliBin)} synth --no-check-upgrade --output ${JSON.stringify(outdir)}`, { CDK8S_CHECK_UPGRADE: 'false' }));
      rmSync(outdir, { recursive: true, force: true });
    }
  } catch (e) {
    cli.length = 0;
    process.stderr.write(`cdk8s synth failed, cli_synth_ms is null: ${(e as Error).message.split('\n').slice(0, 6).join('\n')}\n`);
  }
  // Optional: the same app run from TypeScript source by ts-node / tsx, for the docs.
  const tsBin = process.env.BENCH_TS_BIN;
  const tsRunners: Record<string, number[]> = {};
  if (tsBin) {
    const entry = 'examples/main.ts';
    const variants: Record<string, string> = {
      'ts-node --swc': `${join(tsBin, 'ts-node')} --swc -P tsconfig.dev.json ${entry}`,
      'ts-node -T (transpile-only)': `${join(tsBin, 'ts-node')} -T -P tsconfig.dev.json ${entry}`,
      'tsx': `${join(tsBin, 'tsx')} ${entry}`,
      'ts-node (type-checks)': `${join(tsBin, 'ts-node')} -P tsconfig.dev.json ${entry}`,
    };
    for (const [name, command] of Object.entries(variants)) {
      try {
        wall(command);
      } catch {
        continue; // that runner is not installed
      }
      tsRunners[name] = Array.from({ length: Math.max(3, Math.round(COLD_RUNS / 3)) }, () => wall(command));
    }
  }
  const coldMs = median(cold);
  const floorMs = median(coldFloor);
  const coldAllMs = median(coldAll);
  log(`## Cold start (wall time of a fresh process, ${COLD_RUNS} runs each, alternating; CLI ${CLI_RUNS} runs)`);
  log('| command | median ms | min ms |');
  log('|---|---|---|');
  log(`| \`node ${relative(ROOT, CHURN_APP)}\` (one app: the churn example, the target's) | ${r1(coldMs)} | ${r1(Math.min(...cold))} |`);
  log(`| \`${app}\` (the cdk8s.yaml app: every example) | ${r1(coldAllMs)} | ${r1(Math.min(...coldAll))} |`);
  log(`| floor: node loading cdk8s + cdk8s-plus-27, empty chart synth | ${r1(floorMs)} | ${r1(Math.min(...coldFloor))} |`);
  if (cli.length > 0) log(`| \`cdk8s synth --no-check-upgrade\` (CLI included) | ${r1(median(cli))} | ${r1(Math.min(...cli))} |`);
  for (const [name, times] of Object.entries(tsRunners)) {
    log(`| ${name} examples/main.ts (${times.length} runs) | ${r1(median(times))} | ${r1(Math.min(...times))} |`);
  }
  log();

  // --- the coordinator at run time: one poll's decision, list size, API requests --------
  const polls = POLL_SIZES.map((n) => pollCost(n, POLL_RUNS));
  const load = await apiLoad(API_LOAD_STEPS);
  log(`## Coordinator poll (the jq decision program of assets/coordinate.sh, ${POLL_RUNS} runs each; half the steps complete and in the ledger)`);
  log('| steps | decision CPU ms (median) | min / max | Job list bytes | actions |');
  log('|---|---|---|---|---|');
  for (const p of polls) log(`| ${p.steps} | ${r1(p.cpuMs)} | ${r1(Math.min(...p.runs))} / ${r1(Math.max(...p.runs))} | ${p.listBytes} | ${p.actions} |`);
  log(`API requests per poll, counted by the simulated API server over a ${load.steps}-step run (${load.polls} polls): `
    + `${load.steadyRequestsPerPoll} in a poll that changes nothing, ${r2(load.meanRequestsPerPoll)} on average with releases and ledger writes`);
  log();
  const pollMs = (n: number) => polls.find((p) => p.steps === n)!.cpuMs;

  const footprint = installFootprint(ROOT, pack(ROOT, scratch), scratch);
  log(`## Install footprint\n\n\`npm install\` of the packed library into a project that has its peers adds ${footprint} bytes (target: at most 3 MiB).\n`);

  const result = {
    cores: cpus().length,
    node: process.version,
    synth_ms: synthMs,
    baseline_ms: baselineMs,
    overhead_ratio_1000: SIZES.includes(1000) ? r3(synthMs[1000] / baselineMs[1000]) : null,
    scaling_5000_over_500: SIZES.includes(5000) ? r2(synthMs[5000] / synthMs[500]) : null,
    peak_rss_mb_5000: SIZES.includes(5000) ? r1(med(ours[5000], 'peakRssMb')) : null,
    baseline_peak_rss_mb_5000: SIZES.includes(5000) ? r1(med(base[5000], 'peakRssMb')) : null,
    yaml_bytes_per_step: Math.round(ours[1000][0].bytes! / 1000),
    baseline_yaml_bytes_per_step: Math.round(base[1000][0].bytes! / 1000),
    cold_synth_ms: r1(coldMs),
    cold_floor_ms: r1(floorMs),
    cold_ratio: r2(coldMs / floorMs),
    cold_all_examples_ms: r1(coldAllMs),
    cold_all_examples_ratio: r2(coldAllMs / floorMs),
    install_footprint_bytes: footprint,
    cli_synth_ms: cli.length > 0 ? r1(median(cli)) : null,
    ...(tsBin ? { ts_runner_ms: Object.fromEntries(Object.entries(tsRunners).map(([k, v]) => [k, r1(median(v))])) } : {}),
    validate_ms_5000: SIZES.includes(5000) ? r1(med(validate, 'validateMs')) : null,
    [`sweep_synth_ms_${FANOUT_N}`]: r1(fanO),
    [`sweep_baseline_ms_${FANOUT_N}`]: r1(fanB),
    [`sweep_validate_ms_${FANOUT_N}`]: r1(med(fanValidate, 'validateMs')),
    coordinator_poll_cpu_ms: Object.fromEntries(polls.map((p) => [p.steps, r1(p.cpuMs)])),
    coordinator_scaling_5000_over_1000: r2(pollMs(5000) / pollMs(1000)),
    coordinator_list_bytes: Object.fromEntries(polls.map((p) => [p.steps, p.listBytes])),
    coordinator_api_requests_per_poll: load.steadyRequestsPerPoll,
    coordinator_api_requests_per_poll_mean: r2(load.meanRequestsPerPoll),
    runs: { ...Object.fromEntries(SIZES.map((n) => [n, runs(n)])), validate: VALIDATE_RUNS, sweep: FANOUT_RUNS, cold: COLD_RUNS, cli: CLI_RUNS, poll: POLL_RUNS },
    bench_seconds: Math.round((Date.now() - started) / 1000),
  };
  const targets: Array<[string, boolean | null]> = [
    ['overhead_ratio_1000 <= 1.3', result.overhead_ratio_1000 === null ? null : result.overhead_ratio_1000 <= 1.3],
    ['scaling_5000_over_500 <= 11', result.scaling_5000_over_500 === null ? null : result.scaling_5000_over_500 <= 11],
    ['cold_synth_ms <= 2 x cold_floor_ms', coldMs <= 2 * floorMs],
    ['install_footprint_bytes <= 3 MiB', footprint <= 3 * 1024 * 1024],
    ['yaml_bytes_per_step <= 1.3 x baseline', result.yaml_bytes_per_step <= 1.3 * result.baseline_yaml_bytes_per_step],
    ['coordinator_scaling_5000_over_1000 <= 6', result.coordinator_scaling_5000_over_1000 <= 6],
  ];
  log('## Targets');
  for (const [name, ok] of targets) log(`- ${ok === null ? 'n/a (quick run)' : ok ? 'met' : 'MISSED'}: ${name}`);
  log();
  rmSync(scratch, { recursive: true, force: true });
  log(JSON.stringify(result));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
