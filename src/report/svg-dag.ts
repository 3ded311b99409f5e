/**
 * The pipeline's DAG as static SVG: one column per parallel level, a card per node with its
 * image, resources and GPUs, the critical path in orange. Every element a test or a reader
 * looks for carries a `data-*` attribute (`data-step`, `data-critical`, `data-level`).
 */
import { acceleratorSummary, DiagramNode, PipelineDiagram, resourceSummary } from '../model/diagram';
import { escapeMarkup as esc, truncate } from './escape';
import { LEVEL_HEADER, layoutDiagram, Point } from './layout';

/** Widths in pixels per character, generous for DejaVu Sans (what a bare Debian Chromium falls back to). */
const CHAR = { name: 8.6, mono: 6.8, text: 6.9 };
const MIN_WIDTH = 190;
const MAX_WIDTH = 300;
const PADDING = 12;
const LINE = 17;

interface Card {
  readonly node: DiagramNode;
  readonly title: string;
  readonly image: string;
  readonly resources: string;
  readonly badges: readonly string[];
  readonly width: number;
  readonly height: number;
}

/** The DAG of `diagram` as one `<svg>` element. */
export function dagSvg(diagram: PipelineDiagram): string {
  const cards = new Map(diagram.nodes.map((n) => [n.name, cardOf(n)]));
  const layout = layoutDiagram(diagram, (name) => cards.get(name)!);
  const onPath = new Set(diagram.criticalPath);
  const out: string[] = [];
  out.push(`<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${r(layout.width)}" height="${r(layout.height)}" `
    + `viewBox="0 0 ${r(layout.width)} ${r(layout.height)}" role="img" aria-label="${esc(`DAG of pipeline ${diagram.pipeline}`)}">`);
  out.push('<defs>'
    + '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#64748b"/></marker>'
    + '<marker id="arrow-critical" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#c2410c"/></marker>'
    + '</defs>');

  out.push('<g class="levels">');
  layout.levels.forEach((lv, i) => {
    const info = diagram.levels[i];
    const x = lv.x0 - 14;
    const w = lv.x1 - lv.x0 + 28;
    const count = `${info.nodes.length} step${info.nodes.length === 1 ? '' : 's'}${info.gpus ? ` \u00b7 ${info.gpus} GPU${info.gpus === 1 ? '' : 's'}` : ''}`;
    out.push(`<g class="level" data-level="${info.level}">`
      + `<rect x="${r(x)}" y="8" width="${r(w)}" height="${r(layout.height - 16)}" rx="10" class="band${i % 2 ? ' odd' : ''}"/>`
      + `<text x="${r(x + w / 2)}" y="27" text-anchor="middle" class="level-name">level ${info.level}</text>`
      + `<text x="${r(x + w / 2)}" y="${LEVEL_HEADER - 4}" text-anchor="middle" class="level-info">${esc(count)}</text></g>`);
  });
  out.push('</g>');

  out.push('<g class="edges">');
  for (const e of layout.edges) {
    const cls = e.critical ? 'edge critical' : 'edge';
    out.push(`<path class="${cls}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="${pathOf(e.points)}" `
      + `marker-end="url(#${e.critical ? 'arrow-critical' : 'arrow'})"/>`);
  }
  for (const e of layout.edges) {
    if (!e.label || !e.labelAt) continue;
    const text = truncate(e.label, 36);
    const w = text.length * CHAR.text + 12;
    out.push(`<g class="edge-label"><title>${esc(e.label)}</title>`
      + `<rect x="${r(e.labelAt.x - w / 2)}" y="${r(e.labelAt.y - 10)}" width="${r(w)}" height="20" rx="10"/>`
      + `<text x="${r(e.labelAt.x)}" y="${r(e.labelAt.y + 4)}" text-anchor="middle">${esc(text)}</text></g>`);
  }
  out.push('</g>');

  out.push('<g class="nodes">');
  for (const node of diagram.nodes) {
    const card = cards.get(node.name)!;
    const at = layout.nodes.get(node.name)!;
    out.push(nodeSvg(card, at.x - card.width / 2, at.y - card.height / 2, onPath.has(node.name)));
  }
  out.push('</g></svg>');
  return out.join('\n');
}

function cardOf(node: DiagramNode): Card {
  const resources = resourceSummary(node);
  const badges = [acceleratorSummary(node), node.parallelism !== 1 ? `${node.parallelism} pods at once` : ''].filter((b) => b);
  const kind = node.kind === 'job' ? '' : node.kind;
  const natural = Math.max(
    node.name.length * CHAR.name + (kind ? kind.length * CHAR.text + 24 : 0),
    node.image.length * CHAR.mono,
    resources.length * CHAR.text,
    badges.join('  ').length * CHAR.text + 16 * badges.length,
  ) + 2 * PADDING + 4;
  const width = Math.ceil(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, natural)));
  const lines = 1 + (node.image ? 1 : 0) + (resources ? 1 : 0) + (badges.length ? 1.3 : 0);
  const height = Math.round(2 * PADDING + lines * LINE + 4);
  return { node, title: node.name, image: node.image, resources, badges, width, height };
}

function nodeSvg(card: Card, x: number, y: number, critical: boolean): string {
  const n = card.node;
  const room = (perChar: number, reserved = 0) => Math.floor((card.width - 2 * PADDING - reserved) / perChar);
  const classes = ['node', `kind-${cssToken(n.kind)}`, n.trigger === 'exit' ? 'exit' : '', critical ? 'critical' : ''].filter((c) => c).join(' ');
  const tooltip = [n.name, n.image, card.resources, ...card.badges, n.upstreams.length ? `after ${n.upstreams.join(', ')}` : 'first',
    n.trigger !== 'all-succeeded' ? `trigger ${n.trigger}` : '', n.condition ? `if ${n.condition}` : ''].filter((t) => t).join('\n');
  const parts = [`<g class="${classes}" data-step="${esc(n.name)}" data-kind="${esc(n.kind)}" data-level="${n.level}" `
    + `data-critical="${critical}" transform="translate(${r(x)},${r(y)})"><title>${esc(tooltip)}</title>`];
  parts.push(shapeOf(n.kind, card.width, card.height));
  let line = PADDING + 13;
  const kind = n.kind === 'job' ? '' : n.kind;
  const kindWidth = kind ? kind.length * CHAR.text + 16 : 0;
  parts.push(`<text x="${PADDING}" y="${line}" class="name">${esc(truncate(n.name, room(CHAR.name, kindWidth + (kind ? 6 : 0))))}</text>`);
  if (kind) {
    parts.push(`<rect x="${r(card.width - PADDING - kindWidth)}" y="${line - 12}" width="${r(kindWidth)}" height="16" rx="8" class="kind-badge"/>`
      + `<text x="${r(card.width - PADDING - kindWidth / 2)}" y="${line}" text-anchor="middle" class="kind-text">${esc(kind)}</text>`);
  }
  if (card.image) {
    line += LINE;
    parts.push(`<text x="${PADDING}" y="${line}" class="image">${esc(truncate(card.image, room(CHAR.mono)))}</text>`);
  }
  if (card.resources) {
    line += LINE;
    parts.push(`<text x="${PADDING}" y="${line}" class="resources">${esc(truncate(card.resources, room(CHAR.text)))}</text>`);
  }
  if (card.badges.length) {
    line += LINE + 4;
    let bx = PADDING;
    for (const badge of card.badges) {
      const text = truncate(badge, room(CHAR.text, 12));
      const w = text.length * CHAR.text + 12;
      parts.push(`<rect x="${r(bx)}" y="${line - 13}" width="${r(w)}" height="18" rx="9" class="badge"/>`
        + `<text x="${r(bx + 6)}" y="${line}" class="badge-text">${esc(text)}</text>`);
      bx += w + 6;
    }
  }
  if (critical) parts.push(`<rect x="0" y="0" width="6" height="${card.height}" rx="3" class="critical-mark"/>`);
  parts.push('</g>');
  return parts.join('');
}

/** A gate is a hexagon, an exit handler or another kind a dashed card, a step a rounded card. */
function shapeOf(kind: string, w: number, h: number): string {
  if (kind === 'gate') {
    const s = 12;
    return `<path class="shape" d="M${s},0H${w - s}L${w},${h / 2}L${w - s},${h}H${s}L0,${h / 2}Z"/>`;
  }
  return `<rect class="shape" width="${w}" height="${h}" rx="10"/>`;
}

function pathOf(points: readonly Point[]): string {
  if (points.length === 0) return '';
  // Through the midpoints with the layout's points as controls: smooth, and still inside dagre's route.
  let d = `M${r(points[0].x)},${r(points[0].y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    d += `Q${r(points[i].x)},${r(points[i].y)} ${r(mid.x)},${r(mid.y)}`;
  }
  const last = points[points.length - 1];
  return `${d}L${r(last.x)},${r(last.y)}`;
}

/** A kind as a CSS class token: anything but letters, digits and '-' becomes '-'. */
function cssToken(text: string): string {
  return text.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'none';
}

/** Coordinates rounded to a tenth of a pixel: short, and identical on every machine. */
function r(n: number): string {
  return String(Math.round(n * 10) / 10);
}
