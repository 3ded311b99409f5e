import { spawnSync } from 'child_process';

/**
 * Runs a command-line tool the tests need and returns its output. A missing tool fails the
 * test with a message naming it and how to install it, never a silent skip; a failing run
 * fails with the tool's own output (a plain Error: child_process errors carry circular
 * fields that jest cannot print).
 */
export function runTool(tool: string, args: readonly string[], install: string): { status: number; output: string } {
  const result = spawnSync(tool, args, { encoding: 'utf8', env: process.env });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${tool} is not on PATH, and this test needs it; install it with ${install}`);
  }
  if (result.error) throw new Error(`${tool} could not run: ${result.error.message}`);
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}
