/**
 * What a manifest repository may make the `git` target load. A Git pack is compressed: 2.4 MB on the wire can
 * unpack to 300 MiB, and isomorphic-git inflates every object of a fetched pack in memory while it indexes it. So
 * the pack is judged from its own headers BEFORE isomorphic-git sees it (checkUploadPack, called by the HTTP client
 * in ./git-http on the upload-pack answer): the object count (in the pack's header) and the unpacked size of every
 * object (each object's header states it; delta objects state their result size in their first bytes) are summed,
 * and the first limit crossed fails the attempt, not retried, naming the limit. Each object is inflated once,
 * at most to its stated size, and dropped; nothing is kept.
 *
 * The files edited are then read from the object store (no work tree is ever written), each at most GIT_FILE_LIMIT.
 */
import zlib from 'node:zlib';

/** the objects of the fetched history (the branch's last commits), unpacked, at most this many bytes */
export const GIT_REPO_LIMIT = 64 * 1024 * 1024;
/** at most this many objects (files, directories and commits of the fetched history) */
export const GIT_OBJECT_LIMIT = 20_000;
/** each edited file at most this many bytes (manifests are small; a YAML parse of 30 MiB is not) */
export const GIT_FILE_LIMIT = 1024 * 1024;

const MiB = 1024 * 1024;
const mib = (n: number) => `${n / MiB} MiB`;

/** The pack inside a protocol v0/v1 upload-pack answer: side-band channel 1, or the raw bytes after `PACK`. */
function packOf(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos + 4 <= body.length) {
    if (body.toString('latin1', pos, pos + 4) === 'PACK') return body.subarray(pos);
    const len = Number.parseInt(body.toString('latin1', pos, pos + 4), 16);
    if (!Number.isInteger(len)) break;
    if (len < 4) {
      pos += 4; // flush / delimiter packets
      continue;
    }
    // ACK / NAK / shallow lines are text; side-band 1 is pack data, 2 progress, 3 an error
    if (body[pos + 4] === 1) parts.push(body.subarray(pos + 5, pos + len));
    pos += len;
  }
  return parts.length ? Buffer.concat(parts) : undefined;
}

/** A little-endian base-128 number as delta headers write it; [value, next position]. */
function deltaSize(data: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = data[pos++] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80 && pos < data.length);
  return [value, pos];
}

/**
 * Why an upload-pack answer is over the limits, or undefined (also for an answer that holds no pack: isomorphic-git
 * reports those). A malformed pack is refused too: it could not be judged.
 */
export function checkUploadPack(body: Buffer): string | undefined {
  const pack = packOf(body);
  if (!pack || pack.length < 12) return undefined;
  const count = pack.readUInt32BE(8);
  if (count > GIT_OBJECT_LIMIT)
    return `the repository has ${count} objects, over the limit of ${GIT_OBJECT_LIMIT} (files, directories and commits of the branch's recent history)`;
  const over = `the repository is over the size limit of ${mib(GIT_REPO_LIMIT)} (its files unpacked, in the branch's recent history)`;
  let total = 0;
  let pos = 12;
  for (let i = 0; i < count; i++) {
    // type and size: 3 bits of type, then the size in base-128, least significant first
    let byte = pack[pos++] ?? 0;
    const type = (byte >> 4) & 7;
    let size = byte & 15;
    let shift = 4;
    while (byte & 0x80 && pos < pack.length) {
      byte = pack[pos++];
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (type === 6) while (pos < pack.length && pack[pos++] & 0x80); // ofs-delta: the base's offset
    if (type === 7) pos += 20; // ref-delta: the base's id
    total += size;
    if (total > GIT_REPO_LIMIT) return over;
    let inflated: { buffer: Buffer; engine: zlib.Inflate };
    try {
      inflated = zlib.inflateSync(pack.subarray(pos), {
        info: true,
        maxOutputLength: Math.max(size, 1),
      }) as unknown as { buffer: Buffer; engine: zlib.Inflate };
    } catch {
      return 'the repository sent a malformed pack (an object larger than it says, or corrupt)';
    }
    if (type === 6 || type === 7) {
      // a delta states its base's size, then its result's: the result is what gets unpacked
      const [, next] = deltaSize(inflated.buffer, 0);
      total += deltaSize(inflated.buffer, next)[0];
      if (total > GIT_REPO_LIMIT) return over;
    }
    pos += inflated.engine.bytesWritten;
  }
  return undefined;
}
