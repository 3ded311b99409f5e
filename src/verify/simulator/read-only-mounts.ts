import * as fs from 'fs';
import * as path from 'path';
import type { Mount } from './pod-volumes';

/**
 * `readOnly` volume mounts of a library container that runs here for real. On a node the
 * kubelet passes the mount's `readOnly` to the container runtime (pkg/kubelet/kubelet_pods.go,
 * makeMounts: `ReadOnly: mount.ReadOnly`; pkg/kubelet/kuberuntime/kuberuntime_container.go,
 * makeMounts: `Readonly: v.ReadOnly` in the CRI Mount), which bind-mounts it `ro`: every write
 * under it fails with EROFS ("Read-only file system"), and the volume is left as it was
 * (core/v1 VolumeMount.readOnly: "Mounted read-only if true, read-write otherwise").
 *
 * Here the container's mounts are plain directories of the sandbox, shared with other pods,
 * and the simulator may run as root, so permissions cannot stop a write. Instead the runner
 * takes a snapshot of each read-only directory whenever the process starts running and
 * compares when it stops (it sleeps or exits): while it runs every other process sleeps and
 * no modelled container writes, so whatever changed is its own write. The change is undone
 * and the container fails, as a script whose write fails with EROFS does under `set -e`.
 */
export class ReadOnlyMounts {
  private readonly snapshots = new Map<Mount, Map<string, Entry>>();

  /** @param mounts the container's mounts; those marked readOnly are watched, directories and single files (subPath) */
  constructor(mounts: readonly Mount[]) {
    for (const m of mounts) if (m.readOnly && fs.existsSync(m.host)) this.snapshots.set(m, new Map());
  }

  /** The process starts or resumes: what the read-only directories hold now is what must stay. */
  take(): void {
    for (const [m, snap] of this.snapshots) {
      snap.clear();
      for (const [rel, content] of walk(m.host)) snap.set(rel, content);
    }
  }

  /**
   * The process stopped: the first path (as the container sees it) it wrote, created or
   * deleted under a read-only mount, or undefined. Every change is undone.
   */
  violation(): string | undefined {
    let first: string | undefined;
    for (const [m, snap] of this.snapshots) {
      const now = walk(m.host);
      const changed = [...new Set([...now.keys(), ...snap.keys()])].sort().filter((rel) => !same(now.get(rel), snap.get(rel)));
      if (changed.length === 0) continue;
      first ??= path.posix.join(m.path, changed[0]);
      restore(m.host, snap, now);
    }
    return first;
  }
}

/** A directory, a file's bytes or a symbolic link's target (ConfigMap volumes are links into `..data`). */
type Entry = { readonly dir: true } | { readonly file: Buffer } | { readonly link: string };

/** Every entry below `root`, by relative path; a file mounted alone is the entry ''. */
function walk(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  if (!fs.existsSync(root)) return out;
  if (!fs.statSync(root).isDirectory()) return out.set('', { file: fs.readFileSync(root) });
  const visit = (dir: string, rel: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        out.set(r, { dir: true });
        visit(full, r);
      } else if (entry.isSymbolicLink()) {
        out.set(r, { link: fs.readlinkSync(full) });
      } else {
        out.set(r, { file: fs.readFileSync(full) });
      }
    }
  };
  visit(root, '');
  return out;
}

function same(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if ('dir' in a || 'dir' in b) return 'dir' in a && 'dir' in b;
  if ('link' in a || 'link' in b) return 'link' in a && 'link' in b && a.link === b.link;
  return a.file.equals(b.file);
}

/** Puts `root` back as `snap` recorded it: removes what was added, rewrites what changed or went. */
function restore(root: string, snap: Map<string, Entry>, now: Map<string, Entry>): void {
  // What is new or changed goes first, deepest first; then what went or changed comes back, parents first.
  if (!snap.has('') && !fs.existsSync(root)) fs.mkdirSync(root, { recursive: true });
  for (const rel of [...now.keys()].sort().reverse()) {
    if (!same(snap.get(rel), now.get(rel))) fs.rmSync(path.join(root, rel), { recursive: true, force: true });
  }
  for (const [rel, entry] of [...snap].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const full = path.join(root, rel);
    if (fs.existsSync(full) || isLink(full)) continue;
    if ('dir' in entry) fs.mkdirSync(full);
    else if ('link' in entry) fs.symlinkSync(entry.link, full);
    else fs.writeFileSync(full, entry.file);
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
