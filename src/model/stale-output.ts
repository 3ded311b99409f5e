import { existsSync, readdirSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import type { IConstruct } from 'constructs';
import { PIPELINE_LABEL } from '../conventions';
import { MANAGED_BY_LABEL, MANAGED_BY_LIBRARY } from '../library-containers';

/** Apps whose output folder was already swept: pipelines are only ever added, so once suffices. */
const swept = new WeakSet<object>();

/**
 * Deletes, from the app's output folder, the YAML files this library wrote for pipelines the
 * app no longer has, so that `kubectl apply -f dist/` after a bare `app.synth()` applies
 * exactly the current pipelines (the cdk8s CLI empties the folder itself; `app.synth()` only
 * overwrites). A file is removed only when every object in it carries
 * `app.kubernetes.io/managed-by: cdk8s-mlops` and the `mlops.cdk8s.io/pipeline` label of a
 * pipeline not in `current`; any other file, and every subfolder, is left alone.
 */
export function removeStaleOutput(scope: IConstruct, current: ReadonlySet<string>): void {
  // The root is a cdk8s App when it has an output folder (read by shape: cdk8s is a peer).
  const app = scope.node.root as { readonly outdir?: unknown; readonly outputFileExtension?: unknown };
  if (typeof app.outdir !== 'string' || swept.has(app)) return;
  swept.add(app);
  const extension = typeof app.outputFileExtension === 'string' ? app.outputFileExtension : '.k8s.yaml';
  if (!existsSync(app.outdir)) return;
  for (const entry of readdirSync(app.outdir, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(extension)) continue;
    const file = join(app.outdir, entry.name);
    if (isStale(file, current)) rmSync(file);
  }
}

function isStale(file: string, current: ReadonlySet<string>): boolean {
  let docs: unknown[];
  try {
    // Read and parsed in process: cdk8s' Yaml.load fetches even a local file through a child
    // process, about 200 ms a file, paid by every app.synth() into a folder of earlier output.
    const parsed = parseAllDocuments(readFileSync(file, 'utf8'));
    if (!Array.isArray(parsed) || parsed.some((d) => d.errors.length > 0)) return false;
    docs = parsed.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
  } catch {
    return false; // not YAML this library wrote
  }
  return docs.length > 0 && docs.every((doc) => {
    const labels = (doc as { metadata?: { labels?: Record<string, unknown> } }).metadata?.labels;
    const pipeline = labels?.[PIPELINE_LABEL];
    return labels?.[MANAGED_BY_LABEL] === MANAGED_BY_LIBRARY && typeof pipeline === 'string' && !current.has(pipeline);
  });
}
