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
 * Loads one file or a folder (recursively; `node_modules` and dot-folders are skipped, since
 * they never hold a project's manifests). Files are read in sorted path order so output is the
 * same on every machine. Throws `ManifestLoadError` listing every unreadable document of every
 * file, not just the first.
 */
export function loadManifests(input: string | readonly string[]): LoadedManifests {
  const loaded = readManifests(input);
  if (loaded.errors.length) throw new ManifestLoadError(loaded.errors);
  return loaded;
}

/**
 * Like `loadManifests`, but a file that fails does not stop the others: its errors are
 * returned and only its objects are left out (what `graph` wants from untrusted YAML).
 * `-` reads standard input.
 */
export function readManifests(input: string | readonly string[]): LoadedManifests & { readonly errors: LoadError[] } {
  const inputs = typeof input === 'string' ? [input] : input;
  const files: string[] = [];
  const errors: LoadError[] = [];
  for (const p of inputs) {
    if (p === '-') {
      files.push(p);
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
    const name = file === '-' ? '<stdin>' : file;
    let text: string;
    try {
      text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (e) {
      errors.push({ file: name, document: 0, message: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const loaded = parseManifestText(text, name);
    errors.push(...loaded.errors);
    // A file with an unreadable document is left out whole: half a pipeline would draw wrong.
    if (loaded.errors.length) continue;
    objects.push(...loaded.objects);
    sources.push(...loaded.sources);
  }
  return { objects, sources, files: files.map((f) => (f === '-' ? '<stdin>' : f)), errors };
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
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
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
