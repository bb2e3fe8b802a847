/**
 * UUID version 7 (RFC 9562): a 48-bit Unix millisecond timestamp then random bits. AuditEvent
 * ids are UUIDv7 of the event's `recorded` time, so an id alone says which month partition
 * holds the event, and ids sort with time (keyset paging on `(recorded, id)`).
 */

/** Makes a UUIDv7 for `ms` (Unix milliseconds) from 10 random bytes (default: the platform CSPRNG). */
export function uuidv7(ms: number, random: Uint8Array = crypto.getRandomValues(new Uint8Array(10))): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) throw new RangeError('uuidv7: time out of range');
  if (random.length < 10) throw new RangeError('uuidv7: 10 random bytes needed');
  const bytes = new Uint8Array(16);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(random.subarray(0, 10), 6);
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
