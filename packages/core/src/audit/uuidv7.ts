/**
 * UUID version 7 (RFC 9562): a 48-bit Unix millisecond timestamp then random bits. AuditEvent
 * ids are UUIDv7 of the event's `recorded` time, so an id alone says which month partition
 * holds the event, and ids sort with time (keyset paging on `(recorded, id)`).
 */

/** Two hex digits per byte value, built once. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Random bytes drawn from the platform CSPRNG a few kilobytes at a time (one call per 409 ids). */
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;

function pooledRandom(): Uint8Array {
  if (poolAt + 10 > POOL.length) {
    crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  const slice = POOL.subarray(poolAt, poolAt + 10);
  poolAt += 10;
  return slice;
}

/**
 * Makes a UUIDv7 for `ms` (Unix milliseconds) from 10 random bytes (default: the platform
 * CSPRNG, drawn in blocks: one AuditEvent id per searched patient is on the hot path).
 */
export function uuidv7(ms: number, random: Uint8Array = pooledRandom()): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) throw new RangeError('uuidv7: time out of range');
  if (random.length < 10) throw new RangeError('uuidv7: 10 random bytes needed');
  // 48 bits of time, big-endian: the high 16 and the low 32 bits.
  const high = Math.floor(ms / 2 ** 32);
  const low = ms % 2 ** 32;
  const r = random;
  const h = (b: number) => HEX[b & 0xff] as string;
  return (
    h(high >>> 8) +
    h(high) +
    h(low >>> 24) +
    h(low >>> 16) +
    '-' +
    h(low >>> 8) +
    h(low) +
    '-' +
    h(0x70 | ((r[0] ?? 0) & 0x0f)) +
    h(r[1] ?? 0) +
    '-' +
    h(0x80 | ((r[2] ?? 0) & 0x3f)) +
    h(r[3] ?? 0) +
    '-' +
    h(r[4] ?? 0) +
    h(r[5] ?? 0) +
    h(r[6] ?? 0) +
    h(r[7] ?? 0) +
    h(r[8] ?? 0) +
    h(r[9] ?? 0)
  );
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** True when `id` is a (lower-case) UUIDv7. */
export function isUuidV7(id: string): boolean {
  return UUID_V7.test(id);
}

/** The Unix millisecond timestamp of a UUIDv7, or undefined when `id` is not one. */
export function uuidv7Time(id: string): number | undefined {
  if (!isUuidV7(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
