/**
 * Places a diagram's nodes and routes its edges with dagre (@dagrejs/dagre, the layered
 * layout Mermaid and many others use), at report time in node: the report ships static SVG,
 * so opening it runs no script and fetches nothing.
 */
import * as path from 'path';
import type * as Dagre from '@dagrejs/dagre';
import { diagramEdges, PipelineDiagram } from '../model/diagram';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface PlacedNode {
  readonly name: string;
  /** Centre. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly from: string;
  readonly to: string;
  readonly critical: boolean;
  readonly label: string;
  /** From the upstream node's border to the downstream node's border. */
  readonly points: readonly Point[];
  /** Centre of the label, when there is one. */
  readonly labelAt?: Point;
}

/** The horizontal extent of one parallel level. */
export interface PlacedLevel {
  readonly level: number;
  readonly x0: number;
  readonly x1: number;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, PlacedNode>;
  readonly edges: readonly PlacedEdge[];
  readonly levels: readonly PlacedLevel[];
}

/** Room above the nodes for the level headers. */
export const LEVEL_HEADER = 44;
const MARGIN = 24;

/**
 * Lays `diagram` out left to right with one column per parallel level. `sizeOf` gives each
 * node's box. Deterministic: the same diagram always gets the same coordinates.
 */
export function layoutDiagram(diagram: PipelineDiagram, sizeOf: (name: string) => { width: number; height: number }): Layout {
  const dagre = loadDagre();
  const g = new dagre.graphlib.Graph({ multigraph: false });
  // Dagre's layering would move a step right of its level to shorten edges. Its
  // `longest-path` ranker instead puts every node as far as its longest path to a sink
  // allows; on the reversed graph drawn right to left, that is the node's level (its longest
  // path from a source), so each column is exactly one parallel level. Edges are reversed
  // back below.
  g.setGraph({ rankdir: 'RL', ranker: 'longest-path', nodesep: 28, ranksep: 72, edgesep: 16, marginx: MARGIN, marginy: MARGIN });
  for (const node of diagram.nodes) g.setNode(node.name, { ...sizeOf(node.name) });
  const edges = diagramEdges(diagram);
  for (const e of edges) {
    const label = e.label ? { width: Math.min(260, 7 * e.label.length + 12), height: 18, labelpos: 'c' as const } : {};
    g.setEdge(e.to, e.from, { ...label, weight: e.critical ? 4 : 1 });
  }
  dagre.layout(g);

  // Everything moves down below the level headers.
  const down = (p: { x: number; y: number }): Point => ({ x: p.x, y: p.y + LEVEL_HEADER });
  const nodes = new Map<string, PlacedNode>();
  for (const node of diagram.nodes) {
    const placed = g.node(node.name);
    nodes.set(node.name, { name: node.name, ...down({ x: placed.x!, y: placed.y! }), width: placed.width, height: placed.height });
  }
  const placedEdges: PlacedEdge[] = edges.map((e) => {
    const label = g.edge(e.to, e.from);
    return {
      ...e,
      points: [...(label.points ?? [])].reverse().map(down),
      labelAt: e.label && label.x !== undefined && label.y !== undefined ? down({ x: label.x, y: label.y }) : undefined,
    };
  });
  const levels = diagram.levels.map((level) => {
    const boxes = level.nodes.map((n) => nodes.get(n)!);
    return {
      level: level.level,
      x0: Math.min(...boxes.map((b) => b.x - b.width / 2)),
      x1: Math.max(...boxes.map((b) => b.x + b.width / 2)),
    };
  });
  const graph = g.graph();
  return { width: graph.width ?? 0, height: (graph.height ?? 0) + LEVEL_HEADER, nodes, edges: placedEdges, levels };
}

/**
 * The vendored copy (assets/vendor/dagre, see scripts/vendor-dagre.js), loaded on first use
 * only: nothing but `cdk8s-mlops graph` and the HTML report needs it. The path is the same
 * from src/report (tests) and lib/report (the package).
 */
function loadDagre(): typeof Dagre {
  return require(path.join(__dirname, '..', '..', 'assets', 'vendor', 'dagre', 'dagre.cjs')) as typeof Dagre;
}
