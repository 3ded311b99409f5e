import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main';
import { MAX_FILE_BYTES, readManifests } from '../../src/verify';
import { validSet } from './fixtures';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-hostile-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Nine levels of nine aliases each: 9^9 nodes once expanded, a few hundred bytes written. */
function aliasBomb(): string {
  let text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx:\n  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i <= 9; i++) text += `  a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]\n`;
  return text;
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** Every hostile file at once, next to a valid pipeline that must still be checked. */
function hostileFolder(): Record<string, string> {
  return {
    good: write('app.k8s.yaml', validSet().map((o) => stringify(o)).join('---\n')),
    bomb: write('bomb.yaml', aliasBomb()),
    utf8: write('latin1.yaml', Buffer.concat([Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf'), Buffer.from([0xe9]), Buffer.from('}\n')])),
    empty: write('empty.yaml', ''),
    comments: write('notes.yaml', '# nothing here yet\n---\n'),
  };
}

const MESSAGES = {
  bomb: 'document 1: its aliases expand more than 1000 times, the shape of a YAML alias bomb; refused: write the values out instead of aliasing them',
  utf8: 'the file is not valid UTF-8 (first bad byte at offset 51); manifests must be UTF-8 text: re-save it as UTF-8',
  empty: 'the file is empty; remove it, or check what wrote it',
  comments: 'the file holds no Kubernetes object, only comments or empty documents; remove it, or check what wrote it',
};

async function run(argv: string[]) {
  let stdout = '';
  const code = await main(argv, { out: (t) => { stdout += t; }, err: (t) => { stdout += t; } });
  return { code, stdout };
}

describe('verify on hostile input: each bad file fails alone, with its name, and the others are checked', () => {
  test('an alias bomb, invalid UTF-8, an empty file and a comments-only file each get their own error', () => {
    const files = hostileFolder();
    const read = readManifests(dir);
    expect(read.errors.map((e) => [e.file, e.message])).toEqual([
      [files.bomb, MESSAGES.bomb.replace('document 1: ', '')],
      [files.empty, MESSAGES.empty],
      [files.utf8, MESSAGES.utf8],
      [files.comments, MESSAGES.comments],
    ]);
    expect(read.objects).toHaveLength(validSet().length);
    expect(new Set(read.sources.map((s) => s.split('#')[0]))).toEqual(new Set([files.good]));
  });

  test('the CLI prints each file\'s error, still checks and plans the good file, and exits 1', async () => {
    const files = hostileFolder();
    const r = await run(['verify', dir, '--no-simulate']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`error: ${files.bomb}: ${MESSAGES.bomb}\n`);
    expect(r.stdout).toContain(`error: ${files.utf8}: ${MESSAGES.utf8}\n`);
    expect(r.stdout).toContain(`error: ${files.empty}: ${MESSAGES.empty}\n`);
    expect(r.stdout).toContain(`error: ${files.comments}: ${MESSAGES.comments}\n`);
    expect(r.stdout).toContain('pipeline churn');
    expect(r.stdout).toMatch(new RegExp(`\\n4 errors, 0 warnings in ${validSet().length} objects from 5 files\\n$`));
    expect(r.stdout).not.toMatch(/ReferenceError|TypeError|    at /);
  });

  test('--json still prints, with the load errors next to the good file\'s problems and plans', async () => {
    const files = hostileFolder();
    const r = await run(['verify', dir, '--json', '--no-simulate']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.loadErrors.map((e: any) => e.file)).toEqual([files.bomb, files.empty, files.utf8, files.comments]);
    expect(json.problems).toEqual([]);
    expect(json.plans.map((p: any) => p.pipeline)).toEqual(['churn']);
  });

  test(`a file over ${MAX_FILE_BYTES / 1024 / 1024} MiB is refused before it is read, the others are checked`, () => {
    const good = write('app.k8s.yaml', validSet().map((o) => stringify(o)).join('---\n'));
    const big = path.join(dir, 'huge.yaml');
    // A sparse file: its size is what counts, and a real 33 MiB file would slow the suite.
    fs.writeFileSync(big, '');
    fs.truncateSync(big, MAX_FILE_BYTES + 1024 * 1024);
    const read = readManifests(dir);
    expect(read.errors).toEqual([{
      file: big, document: 0,
      message: 'the file is 33.0 MiB, more than verify reads (32 MiB: checking takes about 42 times the file size in memory); split it into smaller files',
    }]);
    expect(read.objects).toHaveLength(validSet().length);
    expect(read.sources.every((s) => s.startsWith(good))).toBe(true);
  });
});
