/**
 * Cron expressions and CronJob settings as Kubernetes checks them, so a mistake fails at
 * synth instead of at `kubectl apply` (or, worse, never running). Shared by scheduled
 * pipelines and by anything else rendered as a CronJob.
 *
 * Kubernetes parses `spec.schedule` with robfig/cron v3's standard parser
 * (`cron.ParseStandard`, called from pkg/apis/batch/validation/validation.go and
 * pkg/controller/cronjob/utils.go): five fields, or a descriptor. The rules below follow
 * robfig/cron `parser.go` (`getRange`, `parseDescriptor`) and `spec.go` (field bounds).
 */

/** One field of a five-field expression: its name, bounds and accepted names. */
interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Lower-case names robfig/cron accepts in place of numbers (`jan`, `sun`). */
  readonly names?: Record<string, number>;
  readonly namesHint?: string;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

// robfig/cron spec.go: seconds/minutes 0-59, hours 0-23, dom 1-31, months 1-12, dow 0-6
// (7 is not Sunday there, unlike Vixie cron).
const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: Object.fromEntries(MONTH_NAMES.map((n, i) => [n, i + 1])), namesHint: 'a month name (jan-dec)' },
  { name: 'day-of-week', min: 0, max: 6, names: Object.fromEntries(DAY_NAMES.map((n, i) => [n, i])), namesHint: 'a day name (sun-sat)' },
];

/** robfig/cron parser.go `parseDescriptor`: the descriptors ParseStandard accepts. */
const DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const EVERY = '@every ';

const FIELD_ORDER = 'minute hour day-of-month month day-of-week';

/**
 * Why `expression` is not a schedule Kubernetes accepts and runs as written, or undefined
 * when it is one. The reason names the field and says how to fix it.
 */
export function cronProblem(expression: string): string | undefined {
  // pkg/apis/batch/validation/validation.go validateScheduleFormat refuses any "TZ" in a
  // new CronJob's schedule: the time zone has its own field, spec.timeZone.
  const tz = /^(CRON_TZ|TZ)=(\S*)\s*/.exec(expression);
  if (tz) {
    return `the expression names a time zone ('${tz[1]}=${tz[2]}'), which Kubernetes refuses; `
      + `remove it and set timeZone: '${tz[2]}' instead`;
  }
  if (expression.includes('TZ')) {
    return 'the expression contains \'TZ\', which Kubernetes refuses in a schedule; set the time zone with timeZone instead';
  }
  if (expression.startsWith('@')) return descriptorProblem(expression);
  // strings.Fields: any run of whitespace separates fields.
  const fields = expression.trim().split(/\s+/).filter((f) => f !== '');
  if (fields.length !== FIELDS.length) {
    return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}, Kubernetes expects 5 (${FIELD_ORDER}) `
      + 'or a descriptor such as @daily; e.g. \'0 2 * * *\' runs at 02:00 every day';
  }
  for (let i = 0; i < FIELDS.length; i++) {
    for (const part of fields[i].split(',')) {
      const problem = rangeProblem(part, FIELDS[i]);
      if (problem) return `${FIELDS[i].name} field '${fields[i]}'${part === fields[i] ? '' : ` (part '${part}')`} ${problem}`;
    }
  }
  return undefined;
}

/** robfig/cron parser.go `getRange`: `*`, `?`, `n`, `a-b`, each optionally `/step`. */
function rangeProblem(part: string, field: CronField): string | undefined {
  const range = `${field.min}-${field.max}`;
  const slashes = part.split('/');
  if (slashes.length > 2) return 'has more than one \'/\'; write range/step, e.g. \'*/15\'';
  const bounds = slashes[0].split('-');
  let start: number;
  let end: number;
  if (bounds[0] === '*' || bounds[0] === '?') {
    if (bounds.length > 1) return `has a '-' after '${bounds[0]}'; write either '${bounds[0]}' or a range such as '${field.min}-${field.max}'`;
    start = field.min;
    end = field.max;
  } else {
    if (bounds.length > 2) return 'has more than one \'-\'; write one range such as \'1-5\'';
    const values: number[] = [];
    for (const b of bounds) {
      const v = valueOf(b, field);
      if (typeof v === 'string') return v;
      values.push(v);
    }
    start = values[0];
    end = values[values.length - 1];
    // "n/step" means n to the field's maximum in steps.
    if (bounds.length === 1 && slashes.length === 2) end = field.max;
  }
  if (slashes.length === 2) {
    if (!/^\+?\d+$/.test(slashes[1])) return `has a step '${slashes[1]}' that is not a whole number; e.g. '*/5'`;
    if (Number(slashes[1]) === 0) return 'has a step of 0; use a step of at least 1';
  }
  if (start < field.min || end > field.max) {
    const bad = start < field.min ? start : end;
    const sunday = field.name === 'day-of-week' && bad === 7 ? ' (Sunday is 0)' : '';
    return `is out of range ${range}${sunday}`;
  }
  if (start > end) return `starts at ${start} after it ends at ${end}; write the lower bound first (ranges do not wrap around)`;
  return undefined;
}

/** robfig/cron parser.go `parseIntOrName` / `mustParseInt`: a name of the field, or a non-negative integer. */
function valueOf(text: string, field: CronField): number | string {
  const named = field.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (/^\+?\d+$/.test(text)) return Number(text);
  const what = field.namesHint ? `a number or ${field.namesHint}` : 'a number';
  if (text === '') return `has an empty value; write ${what} from ${field.min} to ${field.max}`;
  return `has '${text}', which is not ${what}; write a value from ${field.min} to ${field.max}`;
}

function descriptorProblem(expression: string): string | undefined {
  if (DESCRIPTORS.includes(expression)) return undefined;
  if (expression.startsWith(EVERY)) {
    const seconds = goDurationSeconds(expression.slice(EVERY.length));
    if (seconds === undefined) {
      return `'${expression.slice(EVERY.length)}' is not a duration; write @every with a Go duration such as @every 1h30m`;
    }
    // A CronJob names each Job after the scheduled minute (pkg/controller/cronjob/utils.go
    // getJobName): runs less than a minute apart would get the same name.
    if (seconds < 60 || seconds % 60 !== 0) {
      return `@every ${expression.slice(EVERY.length)} is not a whole number of minutes; a CronJob names its runs by the `
        + 'scheduled minute, so use whole minutes such as @every 5m';
    }
    return undefined;
  }
  return `unknown descriptor '${expression}'; use one of ${DESCRIPTORS.join(', ')} or @every <duration>, or five fields (${FIELD_ORDER})`;
}

const GO_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** The seconds of a Go `time.ParseDuration` string such as `1h30m`, or undefined if it is not one. */
function goDurationSeconds(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let seconds = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(m[1]) * GO_UNITS[m[2]];
  return Math.round(seconds * 1e9) / 1e9;
}

/**
 * Why `timeZone` is not a zone Kubernetes can load, or undefined when it is one.
 *
 * Kubernetes (pkg/apis/batch/validation/validation.go validateTimeZone) refuses an empty
 * name and `Local`, and loads the rest with Go's `time.LoadLocation` from the IANA database
 * embedded in its binaries: the name must exist there, spelled with its exact case.
 * Node's `Intl` knows the same database (ICU's copy), backward-compatible links included
 * (`US/Eastern`, `Asia/Calcutta`), which Go's copy also holds; but `Intl` ignores case,
 * so a name that differs from its canonical spelling only in case is refused here.
 */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (timeZone === '') return 'it is empty; name an IANA time zone such as \'Europe/Berlin\', or leave timeZone unset for the controller\'s zone';
  if (timeZone.toLowerCase() === 'local') {
    return 'Kubernetes refuses \'Local\' (it would be the controller\'s zone); name an IANA time zone such as \'Europe/Berlin\'';
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return 'it is not in the IANA time zone database; use a name such as \'Europe/Berlin\' or \'America/New_York\' '
      + '(see https://www.iana.org/time-zones)';
  }
  const caseOnly = resolved.toLowerCase() === timeZone.toLowerCase() && resolved !== timeZone;
  // Every IANA name's parts start with a capital letter; Go looks names up case-sensitively.
  if (caseOnly || timeZone.split('/').some((part) => !/^[A-Z]/.test(part))) {
    return `Kubernetes looks time zones up case-sensitively; write it as '${resolved}'`;
  }
  return undefined;
}

/** The CronJob controller checks its CronJobs every 10 s (pkg/controller/cronjob/cronjob_controllerv2.go). */
export const MIN_STARTING_DEADLINE_SECONDS = 10;

/** `spec.schedule` names Jobs `<cronjob>-<minutes>`: 52 characters leave room (pkg/apis/batch/validation). */
export const MAX_CRONJOB_NAME_LENGTH = 52;

/** Why a CronJob named `name` cannot be created, with how much to shorten it, or undefined. */
export function cronJobNameProblem(name: string): string | undefined {
  if (name.length <= MAX_CRONJOB_NAME_LENGTH) return undefined;
  return `the CronJob name '${name}' has ${name.length} characters, more than ${MAX_CRONJOB_NAME_LENGTH} (its Jobs append `
    + `'-<unix minutes>'); shorten it by ${name.length - MAX_CRONJOB_NAME_LENGTH}`;
}

/** robfig/cron parser.go: what each descriptor stands for. */
const DESCRIPTOR_FIELDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/**
 * Whether a valid five-field expression or descriptor (not `@every`) fires at `date`'s minute,
 * read in UTC. As robfig/cron spec.go `dayMatches`: when day-of-month or day-of-week starts
 * with `*` (or `?`) both must match, otherwise either.
 */
export function cronMatchesUtc(expression: string, date: Date): boolean {
  const fields = (DESCRIPTOR_FIELDS[expression] ?? expression).trim().split(/\s+/);
  if (fields.length !== FIELDS.length) throw new Error(`cannot evaluate '${expression}': use five fields or a descriptor other than @every`);
  const values = [date.getUTCMinutes(), date.getUTCHours(), date.getUTCDate(), date.getUTCMonth() + 1, date.getUTCDay()];
  const matches = fields.map((f, i) => f.split(',').some((part) => partMatches(part, FIELDS[i], values[i])));
  const starred = /^[*?]/.test(fields[2]) || /^[*?]/.test(fields[4]);
  const day = starred ? matches[2] && matches[4] : matches[2] || matches[4];
  return matches[0] && matches[1] && matches[3] && day;
}

function partMatches(part: string, field: CronField, value: number): boolean {
  const [range, stepText] = part.split('/');
  const bounds = range.split('-');
  const num = (b: string) => valueOf(b, field) as number;
  const start = bounds[0] === '*' || bounds[0] === '?' ? field.min : num(bounds[0]);
  const end = bounds[0] === '*' || bounds[0] === '?' || (bounds.length === 1 && stepText !== undefined) ? field.max : num(bounds[bounds.length - 1]);
  const step = stepText === undefined ? 1 : Number(stepText);
  return value >= start && value <= end && (value - start) % step === 0;
}
