/**
 * The library's install footprint: what `npm install cdk8s-mlops` adds to a project that
 * already has the peers (cdk8s, constructs), in bytes: the package itself and its own
 * dependencies. Measured from the packed tarball, as users get it. Needs the npm registry
 * (or npm's cache) for the peers and `yaml`.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';

/** Bytes of every file under `dir` (apparent sizes, so the figure does not depend on the file system). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** The tarball `npm pack` makes of the project at `root`, written into `dir`. */
export function pack(root: string, dir: string): string {
  return join(dir, npm(['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop()!);
}

/**
 * Installs the peers (the versions `root` develops against) into a fresh folder under
 * `scratch`, then `tarball`; returns the bytes the tarball added.
 */
export function installFootprint(root: string, tarball: string, scratch: string): number {
  const app = mkdtempSync(join(scratch, 'footprint-'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'footprint-app', version: '0.0.0', private: true }));
  const version = (pkg: string) => JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  npm(['install', `cdk8s@${version('cdk8s')}`, `constructs@${version('constructs')}`], app);
  const before = treeBytes(join(app, 'node_modules'));
  npm(['install', tarball], app);
  return treeBytes(join(app, 'node_modules')) - before;
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
