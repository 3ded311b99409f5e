import type { ChildProcess } from 'child_process';
import * as os from 'os';

/**
 * Collects a spawned container process's output into `record` and calls `onClose` with its
 * exit code as the kubelet reports it: the code, or 128 + the signal number when killed.
 */
export function followChild(child: ChildProcess, program: string, record: { stdout: string; stderr: string }, onClose: (exitCode: number) => void): void {
  child.stdout!.on('data', (d: Buffer) => (record.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (record.stderr += d.toString()));
  child.on('error', (e) => (record.stderr += `simulator: cannot run ${program}: ${e.message}\n`));
  child.on('close', (code, sig) => onClose(code ?? 128 + (os.constants.signals[sig as NodeJS.Signals] ?? 0)));
}
