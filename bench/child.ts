/**
 * One measurement in a fresh process, so peak RSS is this size's own:
 *
 *   node build/bench/child.js <ours|baseline|validate> <steps> <outdir> [dag|fanout]
 *
 * Prints one JSON line: construct/synth/total milliseconds, output bytes, peak RSS.
 * `ours` and `baseline` synthesize with `app.synth()` into <outdir>, exactly what
 * `cdk8s synth` runs; `validate` builds the pipeline and times only the validation pass
 * cdk8s runs first (`node.validate()` on every construct: graph, cycles, specs, names).
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { App } from 'cdk8s';
import { makeDag, Shape } from './dag';
import { buildBaseline, buildPipeline } from './workloads';

function main(): void {
  const [mode, nArg, outdir, shape = 'dag'] = process.argv.slice(2);
  const n = Number(nArg);
  if (!['ours', 'baseline', 'validate'].includes(mode) || !(n > 0) || !outdir || !['dag', 'fanout'].includes(shape)) {
    throw new Error('usage: child.js <ours|baseline|validate> <steps> <outdir> [dag|fanout]');
  }
  const dag = makeDag(shape as Shape, n);
  const t0 = performance.now();
  const app = new App({ outdir });
  if (mode === 'baseline') buildBaseline(app, dag);
  else buildPipeline(app, dag);
  const t1 = performance.now();

  if (mode === 'validate') {
    const errors: string[] = [];
    for (const c of app.node.findAll()) errors.push(...c.node.validate());
    const t2 = performance.now();
    if (errors.length > 0) throw new Error(errors.join('\n'));
    report({ mode, shape, n, constructMs: t1 - t0, validateMs: t2 - t1 });
    return;
  }

  app.synth();
  const t2 = performance.now();
  let bytes = 0;
  let docs = 0;
  for (const f of readdirSync(outdir)) {
    bytes += statSync(join(outdir, f)).size;
    docs += (readFileSync(join(outdir, f), 'utf8').match(/^---$/gm)?.length ?? 0) + 1;
  }
  report({ mode, shape, n, constructMs: t1 - t0, synthMs: t2 - t1, totalMs: t2 - t0, bytes, docs });
}

function report(r: Record<string, unknown>): void {
  // maxRSS is in kilobytes.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ...r, peakRssMb })}\n`);
}

main();
