/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate runs its callback in Chromium: the DOM types describe that side.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import { PipelineDiagram } from '../../src/model/diagram';
import { htmlReport } from '../../src/report/html-report';
import { diagramsOfManifests } from '../../src/report/manifest-diagrams';
import { derivePlans } from '../../src/verify/plan';
import { withChromium } from '../support/chromium';
import { flowSet, HOSTILE_IMAGE, HOSTILE_PIPELINE, HOSTILE_STEP, hostileSet } from './fixtures';

jest.setTimeout(120_000);

const dist = (file: string) => parseAllDocuments(readFileSync(`dist/${file}`, 'utf8')).map((d) => d.toJS());

/** What the browser shows of each node and edge, read from the rendered DOM. */
interface Drawn {
  nodes: { step: string; name: string; critical: string; level: number; box: { x: number; y: number; width: number; height: number }; stroke: string }[];
  criticalEdges: number;
  edges: number;
  bands: Record<number, { x0: number; x1: number }>;
  svg: { x: number; y: number; width: number; height: number };
  markup: number;
  title: string;
}

const cases: [string, unknown[]][] = [
  ['churn', dist('churn.k8s.yaml')],
  ['sweep', dist('sweep.k8s.yaml')],
  ['flow', flowSet()],
  ['hostile', hostileSet()],
];

let dir: string;
const drawn: Record<string, { diagram: PipelineDiagram; drawn: Drawn; errors: string[]; requests: string[]; url: string }> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'graph-report-'));
  await withChromium(async (open) => {
    for (const [name, objects] of cases) {
      const { diagrams } = diagramsOfManifests(objects);
      const diagram = diagrams[0].diagram;
      const file = join(dir, `${name}.html`);
      writeFileSync(file, htmlReport(diagram));
      const url = `file://${file}`;
      const { page, log } = await open(url);
      const result = await page.evaluate(() => {
        const box = (e: Element) => {
          const r = e.getBoundingClientRect();
          return { x: r.x, y: r.y, width: r.width, height: r.height };
        };
        const svg = document.querySelector('svg.dag')!;
        const bands: Record<number, { x0: number; x1: number }> = {};
        for (const g of document.querySelectorAll('svg.dag g.level')) {
          const r = g.querySelector('rect')!.getBoundingClientRect();
          bands[Number(g.getAttribute('data-level'))] = { x0: r.left, x1: r.right };
        }
        return {
          nodes: [...document.querySelectorAll('svg.dag g.node')].map((g) => ({
            step: g.getAttribute('data-step')!,
            name: g.querySelector('text.name')!.textContent!,
            critical: g.getAttribute('data-critical')!,
            level: Number(g.getAttribute('data-level')),
            box: box(g.querySelector('.shape')!),
            stroke: getComputedStyle(g.querySelector('.shape')!).stroke,
          })),
          criticalEdges: document.querySelectorAll('svg.dag path.edge.critical').length,
          edges: document.querySelectorAll('svg.dag path.edge').length,
          bands,
          svg: box(svg),
          markup: document.querySelectorAll('script, img, iframe, object, embed').length,
          title: document.title,
        };
      });
      drawn[name] = { diagram, drawn: result, errors: log.errors, requests: log.requests, url };
      await page.close();
    }
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(cases.map(([name]) => name))('the %s report in headless Chromium', (name) => {
  test('opens without a console error and requests nothing but itself', () => {
    expect(drawn[name].errors).toEqual([]);
    expect(drawn[name].requests).toEqual([drawn[name].url]);
  });

  test('draws every step, by name, inside the picture and without overlap', () => {
    const { diagram, drawn: d } = drawn[name];
    expect(d.nodes.map((n) => n.step)).toEqual(diagram.nodes.map((n) => n.name));
    for (const n of d.nodes) {
      // The name is shown (cut with an ellipsis only when too long for the card).
      expect(n.step.startsWith(n.name.replace(/\u2026$/, ''))).toBe(true);
      expect(n.box.x).toBeGreaterThanOrEqual(d.svg.x);
      expect(n.box.x + n.box.width).toBeLessThanOrEqual(d.svg.x + d.svg.width + 1);
      expect(n.box.y + n.box.height).toBeLessThanOrEqual(d.svg.y + d.svg.height + 1);
      const band = d.bands[n.level];
      expect(n.box.x).toBeGreaterThan(band.x0);
      expect(n.box.x + n.box.width).toBeLessThan(band.x1);
    }
    for (const a of d.nodes) {
      for (const b of d.nodes) {
        if (a === b) continue;
        const apart = a.box.x + a.box.width <= b.box.x || b.box.x + b.box.width <= a.box.x
          || a.box.y + a.box.height <= b.box.y || b.box.y + b.box.height <= a.box.y;
        expect(apart).toBe(true);
      }
    }
  });

  test('marks the critical path: its steps in orange, one orange edge between each two', () => {
    const { diagram, drawn: d } = drawn[name];
    const critical = d.nodes.filter((n) => n.critical === 'true');
    expect(critical.map((n) => n.step).sort()).toEqual([...diagram.criticalPath].sort());
    for (const n of critical) expect(n.stroke).toBe('rgb(194, 65, 12)');
    for (const n of d.nodes.filter((x) => x.critical === 'false')) expect(n.stroke).not.toBe('rgb(194, 65, 12)');
    expect(d.criticalEdges).toBe(diagram.criticalPath.length - 1);
  });
});

describe('reports of YAML read back', () => {
  test('the churn report agrees with verify\'s plan: every step and the critical path', () => {
    const [plan] = derivePlans(dist('churn.k8s.yaml'));
    expect(drawn.churn.drawn.nodes.map((n) => n.step).sort()).toEqual(plan.steps.map((s) => s.step).sort());
    expect(drawn.churn.drawn.nodes.filter((n) => n.critical === 'true').map((n) => n.step)).toEqual(plan.criticalPath);
    expect(drawn.churn.drawn.edges).toBe(plan.steps.reduce((sum, s) => sum + s.upstreams.length, 0));
  });

  test('hostile names and images are shown as text: no element, no script, the title intact', () => {
    const d = drawn.hostile.drawn;
    expect(d.markup).toBe(0);
    expect(d.title).toBe(`${HOSTILE_PIPELINE}: pipeline report`);
    expect(d.nodes.map((n) => n.step)).toEqual([HOSTILE_STEP, 'second']);
    const html = readFileSync(join(dir, 'hostile.html'), 'utf8');
    expect(html).not.toContain(HOSTILE_IMAGE);
    expect(html).toContain('evil:1&quot;/&gt;&lt;script&gt;');
  });
});
