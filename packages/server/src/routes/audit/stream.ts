/**
 * Streaming responses of the audit API: NDJSON lines or a searchset Bundle written entry by
 * entry, from the store's keyset chunks, honouring backpressure. Memory stays flat whatever
 * the number of events. The audit middleware records the request before the first byte.
 *
 * A response is whole or visibly broken (issue 14, point 6): when reading fails after the
 * first byte, the connection is destroyed, so the client sees an incomplete transfer (no
 * terminating chunk, no closing `]}`), never a clean end; and a second AuditEvent records the
 * failure and how many events had been sent. A failure before the first byte is thrown to the
 * error handlers like any other (503 when the database is away).
 */
import { refuse } from '@nir/core';
import { type AuditJsonRow, isDatabaseUnavailable } from '@nir/store';
import type { Response } from 'express';
import { findAudit } from '../../audit/context.ts';

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

/**
 * Writes `head`, each chunk as `render` makes it, then `tail`; returns how many rows were sent.
 * Cuts the connection and audits the failure when reading fails after the first byte.
 */
async function pump(
  res: Response,
  chunks: AsyncIterable<AuditJsonRow[]>,
  render: (chunk: AuditJsonRow[], sent: number) => string,
  head: string | undefined,
  tail: string | undefined,
): Promise<number> {
  let started = false;
  let count = 0;
  try {
    if (head !== undefined) {
      started = true;
      if (!(await write(res, head))) return 0;
    }
    for await (const chunk of chunks) {
      started = true;
      if (!(await write(res, render(chunk, count)))) return count;
      count += chunk.length;
    }
  } catch (error) {
    if (!started) throw error;
    await abort(res, count, error);
    return count;
  }
  if (!res.writableEnded) res.end(tail);
  return count;
}

/**
 * Closes the connection without the response's end (no last chunk): what was written is
 * flushed first (a plain destroy would discard it, and the client would not even see the
 * status), then the socket half-closes, which the client reads as a truncated body.
 */
function cut(res: Response): void {
  const socket = res.socket;
  if (!socket || socket.destroyed) {
    res.destroy();
    return;
  }
  socket.once('close', () => res.destroy());
  socket.end();
  // A client that never reads does not hold the socket open.
  setTimeout(() => socket.destroy(), 5000).unref();
}

/** Destroys a started response and records why, as a second AuditEvent of the request. */
async function abort(res: Response, sent: number, error: unknown): Promise<void> {
  const unavailable = isDatabaseUnavailable(error);
  res.req.log?.error({ err: error, sent }, 'streamed response failed after it started: connection cut');
  cut(res);
  const diagnostics = `The response was cut after ${sent} events: ${
    unavailable ? 'the registry database stopped answering' : 'an unexpected error occurred'
  }`;
  await findAudit(res)
    ?.failedAfterStart(refuse(unavailable ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR', diagnostics))
    .catch((auditError: unknown) =>
      res.req.log?.error({ err: auditError }, 'failure of the cut stream not audited'),
    );
}

/** Streams events as NDJSON (one AuditEvent per line). Returns how many were written. */
export function streamNdjson(res: Response, chunks: AsyncIterable<AuditJsonRow[]>): Promise<number> {
  return pump(res, chunks, (chunk) => chunk.map((row) => `${row.json}\n`).join(''), undefined, undefined);
}

/** Streams events as one searchset Bundle (no `total`: it is not known until the end). */
export function streamBundle(
  res: Response,
  selfUrl: string,
  fullUrl: (id: string) => string,
  chunks: AsyncIterable<AuditJsonRow[]>,
): Promise<number> {
  const head = { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'self', url: selfUrl }] };
  return pump(
    res,
    chunks,
    (chunk, sent) =>
      chunk
        .map(
          (row, i) =>
            `${sent + i === 0 ? '' : ','}{"fullUrl":${JSON.stringify(fullUrl(row.id))},"resource":${row.json},"search":{"mode":"match"}}`,
        )
        .join(''),
    `${JSON.stringify(head).slice(0, -1)},"entry":[`,
    ']}',
  );
}
