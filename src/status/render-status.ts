/**
 * `cdk8s-mlops status` as text: one line per step, then the run's elapsed time against its
 * critical path and its outcome. Names and reasons come from the cluster; control characters
 * are replaced so a crafted annotation cannot rewrite the terminal.
 */
import { RunStatus, StepStatus } from './run-status';

/** The status block; `now` is the time of the Job list it was read from. */
export function renderStatus(run: RunStatus, namespace: string, now: Date): string {
  const lines: string[] = [];
  const elapsed = run.startedAt ? duration((run.endedAt ?? now).getTime() - run.startedAt.getTime()) : 'not started';
  lines.push(`pipeline ${clean(run.pipeline)} (namespace ${clean(namespace)}): ${run.outcome}, elapsed ${elapsed}`);
  const width = Math.max(4, ...run.steps.map((s) => clean(s.step).length));
  for (const s of run.steps) lines.push(`  ${clean(s.step).padEnd(width)}  ${s.state.padEnd(8)}  ${detail(s, now)}`);
  if (run.criticalPath.length) {
    lines.push(`critical path ${run.criticalPath.map(clean).join(' -> ')}: ${duration(run.criticalPathMs)} of step run time`
      + `${run.startedAt ? ` in ${elapsed} elapsed` : ''}`);
  }
  if (run.outcomeReason) lines.push(`run ${run.outcome}: ${clean(run.outcomeReason)}`);
  return lines.join('\n') + '\n';
}

function detail(s: StepStatus, now: Date): string {
  switch (s.state) {
    case 'waiting': {
      if (s.waitingOn.length === 0) return s.upstreams.length ? 'upstream done; waiting for the coordinator to release it' : 'waiting for the coordinator to release it';
      return `on ${s.waitingOn.map((w) => `${clean(w.step)} (${w.state})`).join(', ')}`;
    }
    case 'running': {
      const pods = s.activePods ? `, ${s.activePods} pod${s.activePods === 1 ? '' : 's'} active` : '';
      return s.startedAt ? `since ${clock(s.startedAt)} (${duration(now.getTime() - s.startedAt.getTime())})${pods}` : `released, no pod started yet${pods}`;
    }
    case 'complete':
      return [s.startedAt && s.finishedAt ? `in ${duration(s.finishedAt.getTime() - s.startedAt.getTime())}` : '', s.reason ? clean(s.reason) : '']
        .filter((t) => t).join(', ');
    default:
      return clean(s.reason ?? '');
  }
}

/** `1h 02m 03s`, `4m 05s`, `12s`. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h) return `${h}h ${pad(m)}m ${pad(sec)}s`;
  if (m) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

/** `06:41:05Z`: UTC, so CI logs from anywhere agree. */
function clock(d: Date): string {
  return `${d.toISOString().slice(11, 19)}Z`;
}

function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
