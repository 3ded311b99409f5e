import { LEDGER_ANNOTATION, LEDGER_NOTES_ANNOTATION, LEDGER_VALUES_ANNOTATION } from '../../conventions';
import type { PlanEntry } from './load';

export type LedgerState = 'complete' | 'failed' | 'skipped' | 'rejected';

/** What a coordinator's ledger annotations say, by step name (docs/coordinator-contract.md). */
export interface LedgerView {
  /** The final state recorded for each step, in plan order; unrecorded steps are absent. */
  readonly states: Record<string, LedgerState>;
  /** The steps recorded complete, in plan order. */
  readonly complete: string[];
  /** Reasons kept in the ledger, by step. */
  readonly notes: Record<string, string>;
  /** Values kept for waiting consumers, by producing step. */
  readonly values: Record<string, Record<string, unknown>>;
  /** Bytes of the three ledger annotations' values. */
  readonly bytes: number;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STATES: ReadonlyArray<LedgerState | undefined> = [undefined, 'complete', 'failed', 'skipped', 'rejected'];

/**
 * Read the ledger the script wrote, for the simulation's results. Only a reader: the
 * encoding is the script's, and the tests check this reader against it through jq.
 */
export function readLedger(annotations: Record<string, string> | undefined, plan: ReadonlyArray<Pick<PlanEntry, 'step'>>): LedgerView | undefined {
  const text = annotations?.[LEDGER_ANNOTATION];
  if (text === undefined) return undefined;
  const states: Record<string, LedgerState> = {};
  [...text].forEach((ch, k) => {
    const code = ALPHABET.indexOf(ch);
    if (code < 0) throw new Error(`the ledger holds ${JSON.stringify(ch)}, which is not base64url`);
    for (const [i, c] of [[2 * k, code >> 3], [2 * k + 1, code & 7]]) {
      const state = STATES[c];
      if (c !== 0 && (state === undefined || plan[i] === undefined)) throw new Error(`the ledger records code ${c} at position ${i} of a ${plan.length}-step plan`);
      if (state) states[plan[i].step] = state;
    }
  });
  const byStep = <T>(json: string | undefined): Record<string, T> =>
    Object.fromEntries(Object.entries<T>(JSON.parse(json ?? '{}')).map(([pos, v]) => [plan[Number(pos)]?.step ?? `#${pos}`, v]));
  const extra = [LEDGER_NOTES_ANNOTATION, LEDGER_VALUES_ANNOTATION].map((a) => annotations?.[a]);
  return {
    states,
    complete: Object.keys(states).filter((s) => states[s] === 'complete'),
    notes: byStep<string>(extra[0]),
    values: byStep<Record<string, unknown>>(extra[1]),
    bytes: [text, ...extra].reduce((n, v) => n + Buffer.byteLength(v ?? ''), 0),
  };
}
