import { describe, expect, it } from 'vitest';
import { balancerStates, haproxyConfig } from './haproxy.ts';
import { instanceEnv } from './instances.ts';
import { primaryUrl, replicatedLayout, replicaUrl } from './layout.ts';
import { renderSettings } from './pg-cluster.ts';

describe('the replicated layout', () => {
  it('defaults clear of the machine PostgreSQL and the registry default port', () => {
    const layout = replicatedLayout({});
    expect(layout.nodePorts).toEqual([5433, 5434]);
    expect(layout.instancePorts).toEqual([8091, 8092]);
    expect(layout.metricsPorts).toEqual([8191, 8192]);
    expect(layout.balancerPort).toBe(8090);
    expect(layout.synchronous).toBe(true);
  });

  it('gives the instances a multi-host primary URL that only a writable node satisfies', () => {
    const layout = replicatedLayout({ NIR_TOPOLOGY_PORT_BASE: '6000' });
    expect(primaryUrl(layout)).toBe(
      'postgres://postgres@127.0.0.1:6000,127.0.0.1:6001/nir?target_session_attrs=read-write',
    );
    expect(replicaUrl(layout)).toBe(
      'postgres://postgres@127.0.0.1:6001,127.0.0.1:6000/nir?target_session_attrs=prefer-standby',
    );
  });

  it('refuses an instance count it cannot run', () => {
    expect(() => replicatedLayout({ NIR_TOPOLOGY_INSTANCES: '0' })).toThrow(/1 to 8/);
  });
});

describe('HAProxy', () => {
  const config = haproxyConfig({ port: 8090, statsPort: 8099, instancePorts: [8091, 8092, 8093] });

  it('health-checks every instance on /_ready', () => {
    expect(config).toContain('option httpchk GET /_ready');
    expect(config).toContain('http-check expect status 200');
    expect(config.match(/^ {2}server nir\d 127\.0\.0\.1:809\d check$/gm)).toHaveLength(3);
  });

  it('retries only connections that failed before the request was sent', () => {
    expect(config).toContain('retry-on conn-failure');
    expect(config).not.toMatch(/retry-on .*(empty-response|response-timeout|all-retryable)/);
  });

  it('reads server states from the statistics CSV', async () => {
    const csv =
      '# pxname,svname,qcur,status\ninstances,nir1,0,UP\ninstances,nir2,0,DOWN\ninstances,BACKEND,0,UP\n';
    const original = globalThis.fetch;
    globalThis.fetch = (async () => new Response(csv)) as typeof fetch;
    try {
      expect(await balancerStates(8099)).toEqual([
        { name: 'nir1', status: 'UP' },
        { name: 'nir2', status: 'DOWN' },
      ]);
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe('instances', () => {
  it('share the balancer public URL and split the rate limits among themselves', () => {
    const env = instanceEnv({
      port: 8091,
      publicUrl: 'http://127.0.0.1:8090',
      databaseUrl: 'postgres://x',
      replicaUrl: 'postgres://y',
      replicaMaxLag: '2s',
      instances: 2,
    });
    expect(env).toMatchObject({
      PORT: '8091',
      NIR_PUBLIC_URL: 'http://127.0.0.1:8090',
      DATABASE_URL: 'postgres://x',
      DATABASE_REPLICA_URL: 'postgres://y',
      NIR_REPLICA_MAX_LAG: '2s',
      NIR_RATE_LIMIT_INSTANCES: '2',
    });
  });
});

describe('cluster settings', () => {
  it('quotes strings and leaves numbers bare', () => {
    expect(renderSettings({ wal_level: 'replica', max_wal_senders: 10, names: "it's" })).toBe(
      "wal_level = 'replica'\nmax_wal_senders = 10\nnames = 'it''s'",
    );
  });
});
