import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { loadManifests, ManifestLoadError } from '../../src/verify';
import { serving } from './fixtures';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-load-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const cm = (name: string) => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });

describe('loadManifests', () => {
  test('reads a folder recursively, sorted, *.yaml and *.yml only', () => {
    write('b.yaml', cm('b'));
    write('a.yml', `${cm('a1')}---\n${cm('a2')}`);
    write('sub/c.yaml', cm('c'));
    write('notes.txt', 'not yaml');
    write('node_modules/x.yaml', cm('ignored'));
    write('.hidden/y.yaml', cm('ignored'));
    const loaded = loadManifests(dir);
    expect(loaded.files.map((f) => path.relative(dir, f))).toEqual(['a.yml', 'b.yaml', path.join('sub', 'c.yaml')]);
    expect(loaded.objects.map((o: any) => o.metadata.name)).toEqual(['a1', 'a2', 'b', 'c']);
    expect(loaded.sources.map((s) => path.relative(dir, s))).toEqual(['a.yml#1', 'a.yml#2', 'b.yaml#1', `${path.join('sub', 'c.yaml')}#1`]);
  });

  test('reads a single file; empty documents are skipped but keep their number', () => {
    const file = write('app.k8s.yaml', `---\n${cm('one')}---\n# only a comment\n---\n${cm('two')}`);
    const loaded = loadManifests(file);
    expect(loaded.objects.map((o: any) => o.metadata.name)).toEqual(['one', 'two']);
    expect(loaded.sources).toEqual([`${file}#1`, `${file}#3`]);
  });

  test('expands a v1 List', () => {
    const file = write('list.yaml', stringify({ apiVersion: 'v1', kind: 'List', items: serving().slice(0, 2) }));
    const loaded = loadManifests(file);
    expect(loaded.objects.map((o: any) => o.kind)).toEqual(['Deployment', 'ConfigMap']);
    expect(loaded.sources).toEqual([`${file}#1/items/0`, `${file}#1/items/1`]);
  });

  test('a YAML syntax error names the file, the document and the line', () => {
    const good = write('a.yaml', cm('ok'));
    const bad = write('b.yaml', `${cm('first')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: [broken\n`);
    let error: unknown;
    try {
      loadManifests(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ManifestLoadError);
    const errors = (error as ManifestLoadError).errors;
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ file: bad, document: 2, line: expect.any(Number) });
    expect(errors[0].message).toMatch(/^YAML syntax error: /);
    expect((error as Error).message.split('\n')[0]).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: document 2: YAML syntax error: `));
    expect(errors.some((e) => e.file === good)).toBe(false);
  });

  test('duplicate keys are an error, not a silent overwrite', () => {
    const file = write('dup.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n');
    expect(() => loadManifests(file)).toThrow(/document 1: YAML syntax error: Map keys must be unique/);
  });

  test('a document that is not a mapping', () => {
    const file = write('scalar.yaml', `${cm('a')}---\n- just\n- a list\n`);
    expect(() => loadManifests(file)).toThrow(`${file}: document 2: expected a Kubernetes object (a mapping with apiVersion and kind), got a list`);
  });

  test('a missing path and an empty folder', () => {
    expect(() => loadManifests(path.join(dir, 'nope'))).toThrow(`${path.join(dir, 'nope')}: no such file or folder`);
    expect(() => loadManifests(dir)).toThrow('no *.yaml or *.yml files found');
  });
});
