/**
 * `cdk8s-mlops graph <file-or-folder|->...`: draws every pipeline of synthesized YAML as
 * Mermaid, DOT and a self-contained HTML report. The YAML is only read, never run; a file
 * that cannot be read, or a pipeline that cannot be drawn, fails alone with its name.
 */
import { parseCommandLine, UsageError, walkArgs } from './args';
import * as fs from 'fs';
import * as path from 'path';
import { PipelineDiagram } from '../model/diagram';
import { toDot, toMermaid } from '../model/diagram-text';
import { shortHash } from '../model/names';
import type { DrawnPipeline } from '../report/manifest-diagrams';
import { formatLoadError, readManifests } from '../verify/load';

export const GRAPH_USAGE = `usage: cdk8s-mlops graph <file-or-folder|->... [options]

Draws each pipeline found in the manifests (- reads standard input) as
  <out>/<pipeline>.mmd    a Mermaid flowchart (paste it into a \`\`\`mermaid block)
  <out>/<pipeline>.dot    a Graphviz digraph (dot -Tsvg draws it)
  <out>/<pipeline>.html   a self-contained report: the DAG left to right with each step's
                          image, resources and GPUs, the parallel levels, the critical path,
                          maxParallel, warnings and serving objects; no script, no network
The YAML is only read: nothing in it is run, and every name is escaped.

options:
  -o, --out <folder>   where to write (default: graphs); - prints to standard output and
                       needs exactly one --format
  --format <format>    mermaid, dot or html; repeatable (default: all three)
  --namespace <ns>     namespace of objects that set none (default: default)
  -h, --help           show this help

exit codes: 0 every pipeline drawn; 1 a file could not be read, a pipeline could not be
drawn or none was found (everything else is still written); 2 bad invocation
`;

const FORMATS = { mermaid: '.mmd', dot: '.dot', html: '.html' } as const;
type Format = keyof typeof FORMATS;

export interface GraphCliOptions {
  /** Where normal output goes. Default: process.stdout. */
  readonly out?: (text: string) => void;
  /** Where errors go. Default: process.stderr. */
  readonly err?: (text: string) => void;
}

interface Args {
  paths: string[];
  out: string;
  formats: Format[];
  namespace?: string;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { paths: [], out: 'graphs', formats: [], help: false };
  walkArgs(argv, (arg, value) => {
    switch (arg) {
      case '-h':
      case '--help': args.help = true; break;
      case '-o':
      case '--out': args.out = value(); break;
      case '--namespace': args.namespace = value(); break;
      case '--format': {
        const v = value();
        if (!(v in FORMATS)) throw new UsageError(`--format must be mermaid, dot or html, not "${v}"`);
        if (!args.formats.includes(v as Format)) args.formats.push(v as Format);
        break;
      }
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        args.paths.push(arg);
    }
  });
  if (args.formats.length === 0) args.formats = ['mermaid', 'dot', 'html'];
  if (args.out === '-' && args.formats.length !== 1) throw new UsageError('--out - prints one format: give exactly one --format');
  return args;
}

/** Runs `graph`; resolves to the process exit code (see GRAPH_USAGE). */
export async function main(argv: readonly string[], cli: GraphCliOptions = {}): Promise<number> {
  const out = cli.out ?? ((t: string) => void process.stdout.write(t));
  const err = cli.err ?? ((t: string) => void process.stderr.write(t));
  const args = parseCommandLine('graph', GRAPH_USAGE, parseArgs, argv, { out, err });
  if (typeof args === 'number') return args;
  if (args.paths.length === 0) {
    err(`cdk8s-mlops graph: give at least one file or folder, or - for standard input\n\n${GRAPH_USAGE}`);
    return 2;
  }

  const loaded = readManifests(args.paths);
  for (const e of loaded.errors) err(`error: ${formatLoadError(e)}\n`);
  // A file with an unreadable document is left out whole: half a pipeline would draw wrong.
  const failed = new Set(loaded.errors.map((e) => e.file));
  const kept = loaded.objects.flatMap((o, i) => {
    const source = loaded.sources[i];
    return failed.has(source.slice(0, source.lastIndexOf('#'))) ? [] : [{ o, source }];
  });
  // The report machinery (verify's checks, the layout library) loads only when graph runs.
  const { diagramsOfManifests } = await import('../report/manifest-diagrams');
  const { htmlReport } = await import('../report/html-report');
  const { diagrams, failures } = diagramsOfManifests(kept.map((k) => k.o), { namespace: args.namespace, sources: kept.map((k) => k.source) });
  for (const f of failures) err(`error: pipeline ${f.pipeline} (namespace ${f.namespace}): ${f.message}\n`);
  if (diagrams.length === 0 && failures.length === 0) {
    err(`error: no pipeline found in ${loaded.files.length} file${loaded.files.length === 1 ? '' : 's'} (no Job has the mlops.cdk8s.io/pipeline and mlops.cdk8s.io/step labels)\n`);
    return 1;
  }

  const render = ({ diagram, files }: DrawnPipeline, format: Format): string => {
    if (format === 'mermaid') return toMermaid(diagram);
    if (format === 'dot') return toDot(diagram);
    return htmlReport(diagram, { source: files.join(', ') });
  };
  if (args.out === '-') {
    for (const drawn of diagrams) out(render(drawn, args.formats[0]));
  } else {
    fs.mkdirSync(args.out, { recursive: true });
    const names = fileNames(diagrams.map((x) => x.diagram));
    diagrams.forEach((drawn, i) => {
      const d = drawn.diagram;
      const written = args.formats.map((format) => {
        const file = path.join(args.out, names[i] + FORMATS[format]);
        fs.writeFileSync(file, render(drawn, format));
        return file;
      });
      out(`pipeline ${d.pipeline} (namespace ${d.namespace}): ${d.nodes.length} step${d.nodes.length === 1 ? '' : 's'} -> ${written.join(', ')}\n`);
    });
  }
  return loaded.errors.length || failures.length ? 1 : 0;
}

/**
 * A file name per diagram: the pipeline's name, which the YAML sets and could make
 * anything (`../../x`), so a name that is not a plain DNS label is replaced by a safe one
 * with a hash; two pipelines of one name in different namespaces get the namespace too.
 */
function fileNames(diagrams: readonly PipelineDiagram[]): string[] {
  const safe = (text: string) => (/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text)
    ? text
    : `${text.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 40)}-${shortHash(text)}`);
  const count = new Map<string, number>();
  for (const d of diagrams) count.set(d.pipeline, (count.get(d.pipeline) ?? 0) + 1);
  return diagrams.map((d) => (count.get(d.pipeline)! > 1 ? `${safe(d.namespace)}.${safe(d.pipeline)}` : safe(d.pipeline)));
}
