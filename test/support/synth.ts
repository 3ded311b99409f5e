import { mkdtempSync, readdirSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, AppProps } from 'cdk8s';
import { parseAllDocuments } from 'yaml';

/** A parsed Kubernetes object, loosely typed: tests index into it freely. */
export type K8sObject = Record<string, any>;

/**
 * Synthesizes what `build` adds to a fresh app into a temp dir, exactly as `cdk8s synth`
 * does, and returns the parsed objects of every file in file order.
 */
export function synth(build: (app: App) => void, props: AppProps = {}): { objects: K8sObject[]; files: Record<string, string>; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'mlops-test-'));
  const app = new App({ ...props, outdir });
  build(app);
  app.synth();
  const files: Record<string, string> = {};
  for (const f of readdirSync(outdir).sort()) files[f] = readFileSync(join(outdir, f), 'utf8');
  const objects = Object.entries(files).filter(([f]) => f.endsWith('.yaml')).map(([, text]) => text).flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as K8sObject));
  return { objects, files, outdir };
}

/**
 * Runs `build` and `app.synth()` into a fresh temp dir expecting failure; returns the
 * error message and the files left in the output dir (which must be none).
 */
export function synthError(build: (app: App) => void): { message: string; written: string[] } {
  const outdir = mkdtempSync(join(tmpdir(), 'mlops-bad-'));
  let message = '';
  try {
    const app = new App({ outdir });
    build(app);
    app.synth();
  } catch (e) {
    message = (e as Error).message;
  }
  if (message === '') throw new Error('expected synthesis to fail, but it succeeded');
  return { message, written: readdirSync(outdir) };
}

/** Step Jobs (not the coordinator) by step name. */
export function stepJobs(objects: K8sObject[]): Record<string, K8sObject> {
  const jobs: Record<string, K8sObject> = {};
  for (const o of objects) {
    if (o.kind === 'Job' && o.metadata.labels?.['mlops.cdk8s.io/step']) jobs[o.metadata.labels['mlops.cdk8s.io/step']] = o;
  }
  return jobs;
}

export function findOne(objects: K8sObject[], kind: string, predicate: (o: K8sObject) => boolean = () => true): K8sObject {
  const found = objects.filter((o) => o.kind === kind && predicate(o));
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  return found[0];
}

/** `NAME=value-or-ref` of a container's env, for compact assertions. */
export function envOf(container: K8sObject): Record<string, any> {
  return Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

/** How cdk8s starts the message of validation errors, before the first `[path] problem`. */
export const VALIDATION = 'Validation failed with the following errors:\n  ';

/** Asserts synthesis fails with exactly `message` and leaves the output dir empty. */
export function expectSynthFailure(build: (app: App) => void, message: string): void {
  const result = synthError(build);
  expect(result.message).toBe(message);
  expect(result.written).toEqual([]);
}
