import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

const { vendoredFiles, target } = require('../../scripts/vendor-dagre.js') as { vendoredFiles(): Record<string, string>; target: string };

test('assets/vendor/dagre is the pinned @dagrejs/dagre dev dependency (run npm run vendor after updating it)', () => {
  const expected = vendoredFiles();
  expect(readdirSync(target).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, text] of Object.entries(expected)) expect(readFileSync(join(target, name), 'utf8')).toBe(text);
});

test('the vendored copy loads on its own and lays out a graph', () => {
  const dagre = require(join(target, 'dagre.cjs'));
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR' });
  g.setDefaultEdgeLabel(() => ({}));
  g.setNode('a', { width: 10, height: 10 });
  g.setNode('b', { width: 10, height: 10 });
  g.setEdge('a', 'b');
  dagre.layout(g);
  expect(g.node('b').x).toBeGreaterThan(g.node('a').x);
});
