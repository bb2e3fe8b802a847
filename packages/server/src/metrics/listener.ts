/**
 * The metrics listener (R16): a plain HTTP server of its own, on `NIR_METRICS_PORT` and
 * loopback by default, so the metrics are never reachable through the public listener. It
 * serves `GET /metrics` (Prometheus text exposition) and nothing else.
 */
import { createServer, type Server } from 'node:http';

/**
 * What the listener serves: one process's metrics ({@link RegistryMetrics}) or, in a cluster,
 * the primary's aggregate of every worker's (see `lifecycle/cluster.ts`).
 */
export interface MetricsExposition {
  scrape(): Promise<string>;
  readonly contentType: string;
}

/** A running metrics listener. */
export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/** Starts serving `metrics` on `host:port` (0 picks a free port). */
export function listenMetrics(
  metrics: MetricsExposition,
  port: number,
  host: string,
): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('Not found: the metrics are at GET /metrics\n');
      return;
    }
    metrics.scrape().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
