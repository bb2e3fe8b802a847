/**
 * Streaming responses of the audit API: NDJSON lines or a searchset Bundle written entry by
 * entry, from the store's keyset chunks, honouring backpressure. Memory stays flat whatever
 * the number of events. The audit middleware records the request before the first byte.
 */
import type { AuditJsonRow } from '@nir/store';
import type { Response } from 'express';

/** Writes `data`; waits for 'drain' when the socket is full. Returns false when the response is gone. */
async function write(res: Response, data: string): Promise<boolean> {
  if (res.writableEnded || res.destroyed) return false;
  if (res.write(data)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.writableEnded && !res.destroyed;
}

/** Streams events as NDJSON (one AuditEvent per line). Returns how many were written. */
export async function streamNdjson(res: Response, chunks: AsyncIterable<AuditJsonRow[]>): Promise<number> {
  let count = 0;
  for await (const chunk of chunks) {
    if (!(await write(res, chunk.map((row) => `${row.json}\n`).join('')))) return count;
    count += chunk.length;
  }
  if (!res.writableEnded) res.end();
  return count;
}

/** Streams events as one searchset Bundle (no `total`: it is not known until the end). */
export async function streamBundle(
  res: Response,
  selfUrl: string,
  fullUrl: (id: string) => string,
  chunks: AsyncIterable<AuditJsonRow[]>,
): Promise<number> {
  const head = { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'self', url: selfUrl }] };
  if (!(await write(res, `${JSON.stringify(head).slice(0, -1)},"entry":[`))) return 0;
  let count = 0;
  for await (const chunk of chunks) {
    const entries = chunk
      .map(
        (row, i) =>
          `${count + i === 0 ? '' : ','}{"fullUrl":${JSON.stringify(fullUrl(row.id))},"resource":${row.json},"search":{"mode":"match"}}`,
      )
      .join('');
    if (!(await write(res, entries))) return count;
    count += chunk.length;
  }
  if (!res.writableEnded) res.end(']}');
  return count;
}
