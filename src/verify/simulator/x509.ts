import { generateKeyPairSync, randomBytes, sign } from 'crypto';

/**
 * A throwaway self-signed certificate for the loopback API server. client-go sends a
 * bearer token only over TLS, so the simulated API server must speak HTTPS, and kubectl
 * must trust it through `certificate-authority-data`. Node can make keys but has no X.509
 * builder; this is the few lines of DER (ITU-T X.690) that one self-signed ECDSA P-256
 * certificate (RFC 5280) needs, so the library takes no dependency for it and no key is
 * ever committed: a new one is made per simulation.
 */
export interface Certificate {
  /** PEM of the certificate, for the server and (base64) for kubectl's kubeconfig. */
  readonly cert: string;
  /** PEM of the private key (PKCS#8), for the server only. */
  readonly key: string;
}

/** A certificate for `127.0.0.1` (an IP SAN, which Go's TLS checks), valid from an hour ago for a day. */
export function selfSignedCertificate(now = Date.now()): Certificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = seq(set(seq(oid('2.5.4.3'), utf8('cdk8s-mlops simulated API server'))));
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))), // v3: extensions follow
    int(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])), // positive, at most 20 octets
    ecdsaWithSha256,
    name,
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(
      // basicConstraints (critical): a CA, so that it may stand as its own root.
      seq(oid('2.5.29.19'), bool(true), octets(seq(bool(true)))),
      // keyUsage (critical): digitalSignature, keyCertSign.
      seq(oid('2.5.29.15'), bool(true), octets(bitString(Buffer.from([0x84]), 2))),
      // subjectAltName: iPAddress [7] 127.0.0.1.
      seq(oid('2.5.29.17'), octets(seq(tlv(0x87, Buffer.from([127, 0, 0, 1]))))),
    )),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaWithSha256, bitString(signature, 0));
  return { cert: pem('CERTIFICATE', der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

// ---- DER ---------------------------------------------------------------------------

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const bitString = (b: Buffer, unusedBits: number) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));

/** INTEGER from big-endian magnitude bytes (a leading 0 keeps it positive). */
function int(b: Buffer): Buffer {
  return tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function oid(text: string): Buffer {
  const [a, b, ...rest] = text.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime YYMMDDHHMMSSZ (RFC 5280 4.1.2.5.1: years before 2050). */
function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}
