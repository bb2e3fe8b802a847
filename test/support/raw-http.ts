/**
 * One HTTP request exactly as given (node:http, not fetch): the path is sent unnormalised, so
 * malformed percent-encoding reaches the server, and no header is added (fetch adds
 * `Cache-Control: no-cache` beside `If-None-Match`, which would hide a 304).
 */
import { request } from 'node:http';

/** A reply as the tests read it. */
export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Sends `method path` to `origin` with exactly these headers and body. */
export function rawRequest(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawReply> {
  const url = new URL(origin);
  // A GET or DELETE body is sent without chunking: its length must be said, or it is misread.
  const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: { ...length, ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
