/**
 * Reads manifests from disk: one YAML file, or every `*.yaml` / `*.yml` under a folder.
 * Errors name the file and the document so a broken multi-document file can be fixed
 * without guessing which `---` section is meant.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { isRecord } from './types';

export interface LoadedManifests {
  /** Parsed objects, in file order (files sorted by path) then document order. */
  readonly objects: unknown[];
  /** `file#document` of each object (1-based document number, as you count `---` sections); `file#2/items/0` for List items. */
  readonly sources: string[];
  /** Files read, sorted. */
  readonly files: string[];
}

export interface LoadError {
  readonly file: string;
  /** 1-based document number inside the file; 0 when the error is about the file or folder itself. */
  readonly document: number;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export class ManifestLoadError extends Error {
  constructor(readonly errors: readonly LoadError[]) {
    super(errors.map(formatLoadError).join('\n'));
    this.name = 'ManifestLoadError';
  }
}

export function formatLoadError(e: LoadError): string {
  const at = e.line !== undefined ? `:${e.line}${e.column !== undefined ? `:${e.column}` : ''}` : '';
  return `${e.file}${at}: ${e.document > 0 ? `document ${e.document}: ` : ''}${e.message}`;
}

/**
 * The largest file verify reads: 32 MiB. Parsing and checking take about 42 bytes of memory
 * per byte of YAML (measured: 5 MiB of manifests peak at 305 MB, 20 MiB at 934 MB), so a
 * 32 MiB file peaks near 1.4 GB, within what a CI runner gives one process. A pipeline of
 * 2,000 steps synthesizes to 3.4 MiB, so the limit fits about 18,000 steps per file.
 */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** How many aliases one document may expand; more is an alias bomb (exponential expansion). */
const MAX_ALIAS_COUNT = 1000;

/** How standard input (`-` among the inputs) is named in files, sources and errors. */
export const STDIN = '<stdin>';

/** What `readManifests` gives back: everything readable, and why the rest was not. */
export interface ReadManifests extends LoadedManifests {
  /** Unreadable files and documents; each fails alone, the other files are still read. */
  readonly errors: readonly LoadError[];
}

/**
 * Loads one file or a folder (recursively; `node_modules` and dot-folders are skipped, since
 * they never hold a project's manifests). Files are read in sorted path order so output is the
 * same on every machine. Throws `ManifestLoadError` listing every unreadable document of every
 * file, not just the first.
 */
export function loadManifests(input: string | readonly string[]): LoadedManifests {
  const { errors, ...loaded } = readManifests(input);
  if (errors.length) throw new ManifestLoadError(errors);
  return loaded;
}

/**
 * Like `loadManifests`, but never throws on bad input: the files are untrusted (pull
 * requests), and one hostile file (too big, not UTF-8, an alias bomb) must fail alone, with
 * its name, while the others are still checked. `-` reads standard input.
 */
export function readManifests(input: string | readonly string[]): ReadManifests {
  const inputs = typeof input === 'string' ? [input] : input;
  const files: string[] = [];
  const errors: LoadError[] = [];
  for (const p of inputs) {
    if (p === '-') {
      files.push(STDIN);
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      errors.push({ file: p, document: 0, message: 'no such file or folder' });
      continue;
    }
    if (stat.isDirectory()) files.push(...findYaml(p));
    else files.push(p);
  }
  if (files.length === 0 && errors.length === 0) {
    errors.push({ file: inputs.join(', '), document: 0, message: 'no *.yaml or *.yml files found' });
  }
  const objects: unknown[] = [];
  const sources: string[] = [];
  for (const file of files) {
    const text = readText(file, errors);
    if (text === undefined) continue;
    let loaded: ReturnType<typeof parseManifestText>;
    try {
      loaded = parseManifestText(text, file);
    } catch (e) {
      // The parser is third-party code fed untrusted text: whatever it throws fails this file only.
      errors.push({ file, document: 0, message: `cannot be parsed: ${(e as Error).message}` });
      continue;
    }
    objects.push(...loaded.objects);
    sources.push(...loaded.sources);
    errors.push(...loaded.errors);
    if (loaded.objects.length === 0 && loaded.errors.length === 0) {
      errors.push({
        file, document: 0,
        message: text.trim() === '' ? 'the file is empty; remove it, or check what wrote it' : 'the file holds no Kubernetes object, only comments or empty documents; remove it, or check what wrote it',
      });
    }
  }
  return { objects, sources, files, errors };
}

/** The file as UTF-8 text, or undefined after adding why it cannot be read as such. */
function readText(file: string, errors: LoadError[]): string | undefined {
  const fail = (message: string) => {
    errors.push({ file, document: 0, message });
    return undefined;
  };
  let bytes: Buffer;
  try {
    const tooBig = (size: number) => fail(`the file is ${(size / 1024 / 1024).toFixed(1)} MiB, more than verify reads (${MAX_FILE_BYTES / 1024 / 1024} MiB: `
      + 'checking takes about 42 times the file size in memory); split it into smaller files');
    // A file is measured before it is read; standard input can only be measured after.
    const size = file === STDIN ? 0 : fs.statSync(file).size;
    if (size > MAX_FILE_BYTES) return tooBig(size);
    bytes = fs.readFileSync(file === STDIN ? 0 : file);
    if (bytes.length > MAX_FILE_BYTES) return tooBig(bytes.length);
  } catch (e) {
    return fail(`cannot be read: ${(e as Error).message}`);
  }
  try {
    // YAML is Unicode text; a lenient decode would turn bad bytes into U+FFFD and check something else.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    return fail(`the file is not valid UTF-8${at === undefined ? '' : ` (first bad byte at offset ${at})`}; manifests must be UTF-8 text: re-save it as UTF-8`);
  }
}

/**
 * Offset of the first byte that cannot start or continue a UTF-8 sequence, to point the user
 * at it; undefined when only the decoder's finer rules (overlong forms, surrogates) fail.
 */
function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const length = b < 0x80 ? 1 : b >> 5 === 0x6 ? 2 : b >> 4 === 0xe ? 3 : b >> 3 === 0x1e ? 4 : 0;
    if (length === 0) return i;
    for (let k = 1; k < length; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += length;
  }
  return undefined;
}

function findYaml(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
        walk(child);
      } else if (/\.ya?ml$/.test(e.name)) {
        out.push(path.join(dir, child));
      }
    }
  };
  walk('');
  return out;
}

/** Parses one multi-document YAML text; `file` is only used to name sources and errors. */
export function parseManifestText(text: string, file: string): { objects: unknown[]; sources: string[]; errors: LoadError[] } {
  const objects: unknown[] = [];
  const sources: string[] = [];
  const errors: LoadError[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length) {
      // Only the first error: the parser's later ones in the same document are mostly its consequences.
      const err = doc.errors[0];
      const pos = err.linePos?.[0];
      // prettyErrors appends a code excerpt; keep the first line, the position is given apart.
      const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      errors.push({ file, document, line: pos?.line, column: pos?.col, message: `YAML syntax error: ${message}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const bomb = e instanceof ReferenceError && /alias/i.test(e.message);
      errors.push({
        file, document,
        message: bomb
          ? `its aliases expand more than ${MAX_ALIAS_COUNT} times, the shape of a YAML alias bomb; refused: write the values out instead of aliasing them`
          : `cannot be read as data: ${(e as Error).message}`,
      });
      return;
    }
    if (value === null || value === undefined) return;
    if (!isRecord(value)) {
      errors.push({ file, document, message: `expected a Kubernetes object (a mapping with apiVersion and kind), got ${Array.isArray(value) ? 'a list' : typeof value}` });
      return;
    }
    // `kubectl apply` accepts a v1 List and applies its items one by one; so do we.
    if (value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((item, j) => {
        objects.push(item);
        sources.push(`${file}#${document}/items/${j}`);
      });
      return;
    }
    objects.push(value);
    sources.push(`${file}#${document}`);
  });
  return { objects, sources, errors };
}
