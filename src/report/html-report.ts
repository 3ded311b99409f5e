/**
 * One self-contained HTML page per pipeline: the DAG, the parallel levels, the critical
 * path, the steps' resources, `maxParallel`, the warnings and the serving objects. No script,
 * no external file, and a Content-Security-Policy that forbids both, so opening a report of
 * someone else's YAML runs nothing.
 */
import { acceleratorSummary, PipelineDiagram, resourceSummary } from '../model/diagram';
import { escapeMarkup as esc } from './escape';
import { dagSvg } from './svg-dag';

export interface HtmlReportOptions {
  /** Where the diagram came from (`dist/churn.k8s.yaml`), shown in the footer. */
  readonly source?: string;
}

/** The report of `diagram` as a complete HTML document. Deterministic: no date, no random id. */
export function htmlReport(diagram: PipelineDiagram, options: HtmlReportOptions = {}): string {
  const d = diagram;
  const n = d.nodes.length;
  const gpuPeak = Math.max(0, ...d.levels.map((l) => l.gpus));
  const summary = [
    ['steps', String(n)],
    ['parallel levels', String(d.levels.length)],
    ['critical path', `${d.criticalPath.length} step${d.criticalPath.length === 1 ? '' : 's'}`],
    ['max parallel', d.maxParallel > 0 ? `${d.maxParallel} at once` : 'no cap'],
    ['GPUs of the busiest level', String(gpuPeak)],
    ['warnings', String(d.warnings.length)],
  ];
  const body: string[] = [];
  body.push(`<header><h1>${esc(d.pipeline)}</h1><p class="sub">pipeline in namespace <code>${esc(d.namespace)}</code></p></header>`);
  body.push(`<section class="summary">${summary.map(([k, v]) => `<div class="stat"><div class="value">${esc(v)}</div><div class="key">${esc(k)}</div></div>`).join('')}</section>`);
  body.push(`<section class="critical-path" data-critical-path="${esc(d.criticalPath.join(','))}"><h2>Critical path</h2><p>`
    + `${d.criticalPath.map((s) => `<span class="path-step">${esc(s)}</span>`).join('<span class="arrow">\u2192</span>')}</p>`
    + '<p class="note">The longest chain of steps: the run takes at least as long as these steps one after the other.</p></section>');
  body.push(`<section class="graph"><h2>Steps, left to right by level</h2><div class="scroll">${dagSvg(d)}</div>${legend()}</section>`);
  body.push(`<section><h2>Parallel levels</h2><table class="levels"><thead><tr><th>level</th><th>steps (may run side by side)</th><th>GPUs if all run at once</th></tr></thead><tbody>${
    d.levels.map((l) => `<tr><td>${l.level}</td><td>${l.nodes.map((s) => `<code>${esc(s)}</code>`).join(' ')}</td><td>${l.gpus}</td></tr>`).join('')
  }</tbody></table>${d.maxParallel > 0 ? `<p class="note">The coordinator starts at most ${d.maxParallel} step${d.maxParallel === 1 ? '' : 's'} at once.</p>` : ''}</section>`);
  body.push(`<section><h2>Steps</h2><table class="steps"><thead><tr><th>step</th><th>image</th><th>requests/limits</th><th>GPUs</th><th>waits for</th><th>runs when</th></tr></thead><tbody>${
    d.nodes.map((s) => `<tr data-step="${esc(s.name)}"><td><code>${esc(s.name)}</code>${s.kind !== 'job' ? ` <span class="pill">${esc(s.kind)}</span>` : ''}</td>`
      + `<td><code>${esc(s.image)}</code></td><td>${esc(resourceSummary(s))}</td><td>${esc(acceleratorSummary(s) || '-')}${s.parallelism !== 1 ? ` (${s.parallelism} pods at once)` : ''}</td>`
      + `<td>${s.upstreams.length ? s.upstreams.map((u) => `<code>${esc(u)}</code>`).join(' ') : (s.trigger === 'exit' ? 'every other step' : 'nothing')}</td>`
      + `<td>${esc(s.trigger)}${s.condition ? ` if <code>${esc(s.condition)}</code>` : ''}</td></tr>`).join('')
  }</tbody></table></section>`);
  body.push(`<section class="warnings"><h2>Warnings</h2>${d.warnings.length
    ? `<ul>${d.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
    : '<p class="note">None.</p>'}</section>`);
  if (d.serving.length) {
    body.push(`<section class="serving"><h2>Serving and schedules</h2><div class="cards">${
      d.serving.map((s) => `<div class="card" data-kind="${esc(s.kind)}" data-name="${esc(s.name)}"><div class="card-kind">${esc(s.kind)}</div>`
        + `<div class="card-name">${esc(s.name)}</div>${s.detail ? `<div class="card-detail">${esc(s.detail)}</div>` : ''}</div>`).join('')
    }</div></section>`);
  }
  body.push(`<footer>Drawn by <code>cdk8s-mlops graph</code>${options.source ? ` from <code>${esc(options.source)}</code>` : ''}.</footer>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${d.pipeline}: pipeline report`)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

function legend(): string {
  return '<ul class="legend">'
    + '<li><span class="swatch critical"></span>critical path</li>'
    + '<li><span class="swatch step"></span>step (a Job)</li>'
    + '<li><span class="swatch gate"></span>gate</li>'
    + '<li><span class="swatch exit"></span>exit handler</li>'
    + '<li><span class="swatch gpu"></span>GPUs / pods at once</li>'
    + '</ul>';
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 28px 36px 40px; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #0f172a; background: #f8fafc; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
.sub { margin: 2px 0 18px; color: #475569; }
h2 { font-size: 15px; margin: 0 0 10px; color: #1e293b; }
section { background: #fff; border: 1px solid #e2e8f0; border-radius: 12px; padding: 16px 18px; margin: 0 0 16px; }
.summary { display: flex; flex-wrap: wrap; gap: 10px; background: none; border: 0; padding: 0; }
.stat { background: #fff; border: 1px solid #e2e8f0; border-radius: 12px; padding: 10px 16px; min-width: 130px; }
.stat .value { font-size: 20px; font-weight: 650; }
.stat .key { color: #64748b; font-size: 12px; }
.critical-path p { margin: 4px 0; }
.path-step { display: inline-block; background: #fff7ed; border: 1.5px solid #c2410c; color: #9a3412; border-radius: 999px; padding: 1px 10px; font-weight: 600; }
.arrow { color: #c2410c; margin: 0 6px; font-weight: 700; }
.note { color: #64748b; font-size: 12.5px; }
.scroll { overflow-x: auto; }
svg.dag { display: block; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
svg.dag .band { fill: #f1f5f9; }
svg.dag .band.odd { fill: #e8eef5; }
svg.dag .level-name { font-size: 13px; font-weight: 650; fill: #334155; }
svg.dag .level-info { font-size: 11px; fill: #64748b; }
svg.dag .edge { fill: none; stroke: #94a3b8; stroke-width: 1.6; }
svg.dag .edge.critical { stroke: #c2410c; stroke-width: 3; }
svg.dag .edge-label rect { fill: #fff; stroke: #cbd5e1; }
svg.dag .edge-label text { font-size: 11px; fill: #334155; }
svg.dag .node .shape { fill: #fff; stroke: #94a3b8; stroke-width: 1.3; }
svg.dag .node.kind-gate .shape { fill: #fef3c7; stroke: #b45309; }
svg.dag .node.exit .shape { fill: #f1f5f9; stroke-dasharray: 5 4; }
svg.dag .node.critical .shape { stroke: #c2410c; stroke-width: 2.5; }
svg.dag .node .critical-mark { fill: #c2410c; }
svg.dag .node .name { font-size: 14px; font-weight: 700; fill: #0f172a; }
svg.dag .node .image { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 11px; fill: #475569; }
svg.dag .node .resources { font-size: 11.5px; fill: #334155; }
svg.dag .node .badge { fill: #ede9fe; stroke: #a78bfa; }
svg.dag .node .badge-text { font-size: 11px; font-weight: 600; fill: #5b21b6; }
svg.dag .node .kind-badge { fill: #b45309; }
svg.dag .node .kind-text { font-size: 10.5px; font-weight: 700; fill: #fff; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 18px; padding: 0; margin: 10px 0 0; color: #475569; font-size: 12.5px; }
.swatch { display: inline-block; width: 22px; height: 12px; border-radius: 4px; margin-right: 6px; vertical-align: -1px; border: 1.5px solid #94a3b8; background: #fff; }
.swatch.critical { border: 2.5px solid #c2410c; }
.swatch.gate { background: #fef3c7; border-color: #b45309; }
.swatch.exit { background: #f1f5f9; border-style: dashed; }
.swatch.gpu { background: #ede9fe; border-color: #a78bfa; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; color: #475569; font-weight: 600; border-bottom: 1px solid #e2e8f0; padding: 6px 8px; }
td { border-bottom: 1px solid #f1f5f9; padding: 6px 8px; vertical-align: top; }
.pill { background: #fef3c7; color: #92400e; border-radius: 999px; padding: 0 8px; font-size: 11.5px; font-weight: 600; }
.warnings ul { margin: 0; padding-left: 20px; }
.warnings li { margin: 4px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1.3px solid #0e7490; background: #ecfeff; border-radius: 10px; padding: 8px 12px; min-width: 180px; }
.card-kind { font-size: 11px; font-weight: 700; color: #0e7490; text-transform: uppercase; letter-spacing: 0.04em; }
.card-name { font-weight: 650; }
.card-detail { font-size: 12px; color: #475569; }
footer { color: #94a3b8; font-size: 12px; margin-top: 8px; }
`;
