import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * The coordinator's decision program: the jq text of the `decide` here-document of
 * `coordinate.sh`, exactly as the script runs it. The bench times it and the ledger tests
 * feed it directly, so neither needs a re-implementation that could drift from the script.
 */
export function decisionProgram(script: string): string {
  const m = /read -r -d '' decide <<'JQ' \|\| true\n([\s\S]*?)\nJQ\n/.exec(script);
  if (!m) throw new Error("the coordinator script has no `read -r -d '' decide <<'JQ'` here-document");
  return m[1];
}

/** The jq definitions of the decision program, without its main expression (see `# main` in the script). */
export function decisionDefinitions(script: string): string {
  const program = decisionProgram(script);
  const at = program.indexOf('\n# main\n');
  if (at < 0) throw new Error('the decision program has no `# main` line separating its definitions');
  return program.slice(0, at + 1);
}

export interface DecisionInput {
  /** The Job list as `kubectl get jobs -o json` prints it. */
  readonly jobs: string;
  readonly plan: string;
  readonly self: string;
  readonly now: number;
  /** @default 0 */
  readonly deadline?: number;
  /** @default 0 */
  readonly cap?: number;
}

export interface DecisionOutput {
  /** One action per line, fields split by \x1f, as the script reads them. */
  readonly lines: string[][];
  readonly stderr: string;
  readonly exitCode: number;
  /** CPU time of the jq process (user + system), from bash's `times`. */
  readonly cpuMs: number;
}

/** Run a jq program the way the script does (the list on stdin, the plan as a raw file). */
export function runDecision(program: string, input: DecisionInput): DecisionOutput {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-decide-'));
  try {
    writeFileSync(join(dir, 'jobs.json'), input.jobs);
    writeFileSync(join(dir, 'plan'), input.plan);
    writeFileSync(join(dir, 'decide.jq'), program);
    // `times` prints the shell's own CPU time, then its children's: jq's.
    const p = spawnSync('bash', ['-c', `jq -r --rawfile plan plan --arg self "$SELF" --argjson now "$NOW" --argjson deadline "$DEADLINE" --argjson cap "$CAP" -f decide.jq <jobs.json >out; rc=$?; times >times; exit $rc`], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, SELF: input.self, NOW: String(input.now), DEADLINE: String(input.deadline ?? 0), CAP: String(input.cap ?? 0) },
    });
    const out = readFileSync(join(dir, 'out'), 'utf8');
    const children = readFileSync(join(dir, 'times'), 'utf8').trim().split('\n')[1] ?? '';
    const cpuMs = children.split(/\s+/).reduce((sum, t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? sum + (Number(m[1]) * 60 + Number(m[2])) * 1000 : sum;
    }, 0);
    return {
      lines: out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\x1f')),
      stderr: p.stderr,
      exitCode: p.status ?? 1,
      cpuMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
