/**
 * The bench's load on loopback: a closed loop (autocannon, N connections each sending its next
 * request when the last answered), an open loop paced at a fixed rate (latency counted from when
 * each request was due, so a stall is not hidden: autocannon's own rate option sends in bursts),
 * and a paging walker (S2b). Every request is built fresh (its own X-Request-Id).
 */
import http from 'node:http';
import autocannon from 'autocannon';

/** One HTTP request of a scenario. */
export interface BenchRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What a load run measured. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, socket errors and timeouts. */
  errors: number;
  /** Response bytes read (headers and bodies), where the generator counts them. */
  bytes?: number;
}

/** Closed loop: `connections` connections for `seconds`, each request from `next()`. */
export async function closedLoop(
  url: string,
  connections: number,
  seconds: number,
  next: () => BenchRequest,
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        setupRequest: (request) => {
          const r = next();
          return {
            ...request,
            method: r.method,
            path: r.path,
            headers: r.headers,
            ...(r.body ? { body: r.body } : {}),
          };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    bytes: result.throughput.total,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function send(agent: http.Agent, base: URL, request: BenchRequest): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(request.body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Open loop: requests due every 1/`rate` s for `seconds`, sent when due whatever the answers
 * before; latency from the due time to the end of the response.
 */
export async function openLoop(
  url: string,
  rate: number,
  seconds: number,
  next: () => BenchRequest,
): Promise<LoadResult> {
  const base = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      send(agent, base, next()).then((status) => {
        latencies.push(performance.now() - due);
        if (status < 200 || status > 299) errors += 1;
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: total,
    seconds: elapsed,
    rps: total / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

/**
 * `walkers` concurrent clients, each reading one search page after another (following
 * `link[next]`) and starting again at the first page, for `seconds`; latency per page.
 */
export async function pagingWalk(
  url: string,
  walkers: number,
  seconds: number,
  first: () => BenchRequest,
): Promise<LoadResult & { pagesPerWalk: number }> {
  const base = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let walks = 0;
  const end = performance.now() + seconds * 1000;
  const walker = async () => {
    while (performance.now() < end) {
      let request: BenchRequest | undefined = first();
      while (request) {
        const t0 = performance.now();
        const response = await fetch(new URL(request.path, base), {
          method: request.method,
          headers: request.headers,
        });
        const body = (await response.json()) as { link?: { relation: string; url: string }[] };
        latencies.push(performance.now() - t0);
        if (response.status !== 200) {
          errors += 1;
          break;
        }
        const nextUrl = body.link?.find((l) => l.relation === 'next')?.url;
        request = nextUrl
          ? { ...first(), path: new URL(nextUrl).pathname + new URL(nextUrl).search }
          : undefined;
      }
      walks += 1;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: walkers }, walker));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    pagesPerWalk: latencies.length / Math.max(1, walks),
  };
}
