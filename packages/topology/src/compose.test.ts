/**
 * The production shape (docker-compose.topology.yml) says what the loopback topology proves:
 * no Docker engine runs here, so its file is held to the same rules as `pnpm topology up`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { haproxyConfig } from './haproxy.ts';
import { REPO_ROOT } from './instances.ts';

interface Service {
  command?: string;
  environment?: Record<string, string>;
  depends_on?: string[];
}
const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.topology.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service>; configs: { haproxy: { content: string } } };
const services = Object.entries(compose.services);
const registries = services.filter(([name]) => name.startsWith('registry-'));
const databases = services.filter(([, s]) => s.command?.includes('pg_autoctl create postgres'));

/** HAProxy directives apart from where it listens and what it sends to. */
const rules = (config: string) =>
  config
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(bind|server|listen|stats|frontend|backend)\b/.test(l))
    .sort();

describe('docker-compose.topology.yml (issue 19 production shape)', () => {
  it('runs two or more registry instances, each sharing the quotas among them', () => {
    expect(registries.length).toBeGreaterThanOrEqual(2);
    for (const [, registry] of registries) {
      expect(registry.environment?.NIR_RATE_LIMIT_INSTANCES).toBe(String(registries.length));
    }
  });

  it('points every instance at whichever node accepts writes, and its reads at a standby', () => {
    expect(databases.map(([name]) => name)).toEqual(['pg-1', 'pg-2']);
    for (const [, registry] of registries) {
      // libpq's multi-host form (WHATWG URL cannot parse it).
      expect(registry.environment?.DATABASE_URL).toMatch(
        /^postgres:\/\/nir@pg-1:5432,pg-2:5432\/nir\?target_session_attrs=read-write$/,
      );
      expect(registry.environment?.DATABASE_REPLICA_URL).toMatch(
        /^postgres:\/\/nir@pg-2:5432,pg-1:5432\/nir\?target_session_attrs=prefer-standby$/,
      );
      expect(registry.environment?.NIR_REPLICA_MAX_LAG).toMatch(/^\d+m?s$/);
      expect(registry.environment?.NIR_DEMO_MODE).toBe('false');
    }
  });

  it('keeps the databases with pg_auto_failover (a monitor and a keeper per node)', () => {
    expect(compose.services.monitor?.command).toContain('pg_autoctl create monitor');
    for (const [, database] of databases) {
      expect(database.command).toContain('--run');
      expect(JSON.stringify(database)).toContain('@monitor/pg_auto_failover');
    }
  });

  it('balances with the loopback topology HAProxy rules, checking each instance on /_ready', () => {
    const content = compose.configs.haproxy.content;
    const loopback = haproxyConfig({ port: 8080, statsPort: 8099, instancePorts: [1, 2] });
    expect(rules(content)).toEqual(rules(loopback).filter((l) => !l.startsWith('stats')));
    for (const [name] of registries) expect(content).toContain(`server ${name} ${name}:8080 check`);
  });
});
