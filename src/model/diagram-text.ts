/**
 * Mermaid and Graphviz DOT text of a pipeline diagram, for pull requests and docs: GitHub
 * renders a ```mermaid block inline, and `dot -Tsvg` draws the DOT file.
 *
 * Every name and value may come from YAML someone else wrote, so each is escaped for the
 * format it lands in; nothing of it can close a string or start a directive.
 */
import { acceleratorSummary, diagramEdges, DiagramNode, PipelineDiagram, resourceSummary } from './diagram';

/** Colour of the critical path in both formats (and in the HTML report). */
export const CRITICAL_COLOUR = '#c2410c';

/** A Mermaid flowchart, left to right, with the critical path drawn thick. */
export function toMermaid(diagram: PipelineDiagram): string {
  const id = new Map(diagram.nodes.map((n, i) => [n.name, `n${i}`]));
  const lines = ['flowchart LR', `  %% ${mermaidText(headline(diagram))}`];
  for (const level of diagram.levels) lines.push(`  %% level ${level.level}: ${mermaidText(level.nodes.join(', '))}`);
  for (const node of diagram.nodes) {
    const text = nodeLines(node).map(mermaidText).join('<br/>');
    lines.push(`  ${id.get(node.name)}${mermaidShape(node.kind, `"${text}"`)}`);
  }
  const edges = diagramEdges(diagram);
  edges.forEach((e) => {
    const arrow = e.label ? `-->|"${mermaidText(e.label)}"|` : '-->';
    lines.push(`  ${id.get(e.from)} ${arrow} ${id.get(e.to)}`);
  });
  const criticalNodes = diagram.criticalPath.map((n) => id.get(n)!);
  if (criticalNodes.length) {
    lines.push(`  classDef critical stroke:${CRITICAL_COLOUR},stroke-width:3px`);
    lines.push(`  class ${criticalNodes.join(',')} critical`);
  }
  const criticalEdges = edges.flatMap((e, i) => (e.critical ? [i] : []));
  if (criticalEdges.length) lines.push(`  linkStyle ${criticalEdges.join(',')} stroke:${CRITICAL_COLOUR},stroke-width:3px`);
  return lines.join('\n') + '\n';
}

/** A Graphviz digraph, left to right, one rank per parallel level. */
export function toDot(diagram: PipelineDiagram): string {
  const onPath = new Set(diagram.criticalPath);
  const lines = [
    `digraph ${dotString(diagram.pipeline)} {`,
    `  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label=${dotString(headline(diagram))}];`,
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#64748b", fontname="Helvetica", fontsize=11];',
    '  edge [color="#64748b", fontname="Helvetica", fontsize=10];',
  ];
  for (const level of diagram.levels) {
    lines.push(`  { rank=same; ${level.nodes.map((n) => `${dotString(n)};`).join(' ')} }`);
  }
  for (const node of diagram.nodes) {
    const attrs = [`label=${dotString(nodeLines(node).join('\n'))}`, ...dotShape(node.kind)];
    if (onPath.has(node.name)) attrs.push(`color="${CRITICAL_COLOUR}"`, 'penwidth=3');
    lines.push(`  ${dotString(node.name)} [${attrs.join(', ')}];`);
  }
  for (const e of diagramEdges(diagram)) {
    const attrs: string[] = [];
    if (e.label) attrs.push(`label=${dotString(e.label)}`);
    if (e.critical) attrs.push(`color="${CRITICAL_COLOUR}"`, 'penwidth=3');
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** `pipeline churn (namespace ml-churn): 5 steps, critical path 4, at most 2 at once`. */
export function headline(diagram: PipelineDiagram): string {
  const n = diagram.nodes.length;
  const cap = diagram.maxParallel > 0 ? `at most ${diagram.maxParallel} at once` : 'no cap on steps at once';
  return `pipeline ${diagram.pipeline} (namespace ${diagram.namespace}): ${n} step${n === 1 ? '' : 's'}, `
    + `critical path ${diagram.criticalPath.length}, ${cap}`;
}

/** What a node box says, one line each: name (and kind), image, resources, accelerators. */
function nodeLines(node: DiagramNode): string[] {
  const lines = [node.kind === 'job' ? node.name : `${node.name} (${node.kind})`];
  if (node.image) lines.push(node.image);
  const resources = resourceSummary(node);
  if (resources) lines.push(resources);
  const accelerators = acceleratorSummary(node);
  if (accelerators) lines.push(accelerators);
  if (node.parallelism !== 1) lines.push(`${node.parallelism} pods at once`);
  return lines;
}

function mermaidShape(kind: string, text: string): string {
  if (kind === 'gate') return `{{${text}}}`;
  if (kind === 'job') return `[${text}]`;
  return `([${text}])`;
}

function dotShape(kind: string): string[] {
  if (kind === 'gate') return ['shape=hexagon', 'fillcolor="#fef3c7"'];
  if (kind === 'job') return [];
  return ['style="rounded,filled,dashed"'];
}

/**
 * Text inside a quoted Mermaid label. Mermaid decodes `#name;` / `#code;` entities there,
 * so quotes, angle brackets, `#` and backticks (which switch to markdown) become entities
 * and line breaks become spaces: the text cannot end the label or inject markup.
 */
export function mermaidText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[#"<>&`]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A DOT quoted string: backslashes and quotes escaped, line breaks as DOT's `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r\n|\r|\n/g, '\\n')}"`;
}
