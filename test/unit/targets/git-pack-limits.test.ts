/**
 * checkUploadPack judges a pack from its headers: a delta whose stated result is huge (a few bytes that expand to
 * 100 MiB when resolved) is over the size limit without being resolved; an object larger than it says is refused.
 * Packs are built by hand here so that what is stated and what is sent can differ.
 */
import zlib from 'node:zlib';
import { checkUploadPack, GIT_OBJECT_LIMIT, GIT_REPO_LIMIT } from '../../../lib/deploy/targets/git-limits';

/** an object header: type, then the size in base-128, least significant first */
function header(type: number, size: number): Buffer {
  const out: number[] = [];
  let byte = (type << 4) | (size & 15);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    out.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  out.push(byte);
  return Buffer.from(out);
}
const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
function pack(objects: Buffer[], count = objects.length): Buffer {
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(count, 8);
  return Buffer.concat([head, ...objects, Buffer.alloc(20)]);
}
const blob = (data: Buffer) => Buffer.concat([header(3, data.length), zlib.deflateSync(data)]);
/** an ofs-delta against the object `back` bytes before it, stating `result` bytes of output */
function delta(back: number, baseSize: number, result: number): Buffer {
  const data = Buffer.from([...varint(baseSize), ...varint(result), 0x90, 0x10]); // copy 16 bytes from offset 0
  return Buffer.concat([header(6, data.length), Buffer.from([back]), zlib.deflateSync(data)]);
}
/** the pack as git http-backend sends it: NAK, then side-band-64k packets on channel 1 */
function sideband(p: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from('0008NAK\n')];
  for (let i = 0; i < p.length; i += 65515) {
    const chunk = p.subarray(i, i + 65515);
    parts.push(Buffer.from((chunk.length + 5).toString(16).padStart(4, '0')), Buffer.from([1]), chunk);
  }
  parts.push(Buffer.from('0000'));
  return Buffer.concat(parts);
}

describe('checkUploadPack', () => {
  const base = blob(Buffer.alloc(16, 'a'));
  it('a small pack within the limits passes, raw or in side-band packets', () => {
    const p = pack([base, delta(base.length, 16, 1024)]);
    expect(checkUploadPack(p)).toBeUndefined();
    expect(checkUploadPack(sideband(p))).toBeUndefined();
  });

  it('a delta stating a 100 MiB result is over the size limit without being resolved', () => {
    const p = pack([base, delta(base.length, 16, 100 * 1024 * 1024)]);
    expect(p.length).toBeLessThan(200);
    expect(checkUploadPack(sideband(p))).toBe(
      `the repository is over the size limit of ${GIT_REPO_LIMIT / 1024 / 1024} MiB (its files unpacked, in the branch's recent history)`,
    );
  });

  it('more objects than the limit, by the pack header', () => {
    expect(checkUploadPack(pack([base], GIT_OBJECT_LIMIT + 1))).toMatch(
      new RegExp(`^the repository has ${GIT_OBJECT_LIMIT + 1} objects, over the limit of ${GIT_OBJECT_LIMIT}`),
    );
  });

  it('an object that inflates to more than its header says is refused', () => {
    const lying = Buffer.concat([header(3, 10), zlib.deflateSync(Buffer.alloc(1024 * 1024))]);
    expect(checkUploadPack(pack([lying]))).toMatch(/^the repository sent a malformed pack/);
  });
});
