/**
 * Issue 19 fault tests, on loopback: the replicated topology (`pnpm topology up`'s functions on
 * free ports: PostgreSQL primary and synchronous standby, the keeper, two registry instances
 * behind HAProxy) takes a mixed burst of creates and searches while one thing fails:
 * 1. a registry instance is killed (SIGKILL): HAProxy routes around it;
 * 2. the standby is stopped: searches fall back to the primary, writes wait at most the keeper's
 *    grace period, and nothing fails;
 * 3. the primary is killed (every process, SIGKILL): the keeper promotes the synchronous standby,
 *    the instances reconnect through their multi-host URL by themselves.
 * After each, every answer the clients saw as 2xx is checked on the primary of the moment: its
 * pointer (creates) and its AuditEvent (every request, R7) are there. The figures (error window,
 * requests lost) are printed and written to test-results/faults.json. Run by `pnpm test:faults`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  downReplicated,
  metricValue,
  type PgCluster,
  type ReplicatedLayout,
  readKeeperState,
  replicatedInstanceSpec,
  replicatedNodes,
  scratchReplicatedLayout,
  startInstance,
  type TopologyRecord,
  upReplicated,
  waitFor,
} from '@nir/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/harness.ts';
import {
  type Answer,
  acknowledgedMissing,
  type FaultFigures,
  figures,
  mixedBurst,
} from '../support/mixed-burst.ts';
import { demoAccessToken } from '../support/server-process.ts';

let layout: ReplicatedLayout;
let record: TopologyRecord;
let url: string;
let providerToken: string;
let consumerToken: string;
const report: FaultFigures[] = [];

async function currentPrimary(): Promise<PgCluster> {
  for (const node of replicatedNodes(layout)) if (await node.isPrimary()) return node;
  throw new Error('no primary');
}

/** Answers seen as 2xx whose pointer or AuditEvent is not on the primary of the moment. */
async function missingOnPrimary(answers: Answer[]): Promise<string[]> {
  const primary = await currentPrimary();
  return acknowledgedMissing(answers, (text, params) => primary.query(text, params, layout.database));
}

async function burst(label: string, fault: { atMs: number; run: () => Promise<void> }): Promise<Answer[]> {
  return mixedBurst({ url, providerToken, consumerToken, durationMs: 8000, clients: 6, label, fault });
}

beforeAll(async () => {
  layout = await scratchReplicatedLayout('nir-faults-');
  record = await upReplicated(layout);
  url = `http://127.0.0.1:${layout.balancerPort}`;
  providerToken = await demoAccessToken(url, 'demo-provider-a', 'RR8');
  consumerToken = await demoAccessToken(url, 'demo-consumer', 'RWY');
}, 180_000);

afterAll(async () => {
  if (layout) await downReplicated(layout.dir, true);
  if (report.length > 0) {
    console.log(
      `\nFault | requests | acknowledged | failed (by status) | error window (s) | acknowledged lost | slowest (ms)\n${report
        .map(
          (r) =>
            `${r.fault} | ${r.requests} | ${r.acknowledged} | ${r.failed} ${JSON.stringify(r.failedStatuses)} | ${r.errorWindowSeconds} | ${r.acknowledgedLost} | ${r.slowestMs}`,
        )
        .join('\n')}`,
    );
    await mkdir(path.join(REPO_ROOT, 'test-results'), { recursive: true });
    await writeFile(
      path.join(REPO_ROOT, 'test-results', 'faults.json'),
      `${JSON.stringify(report, null, 2)}\n`,
    );
  }
}, 120_000);

describe('the replicated topology under faults (issue 19)', () => {
  it('a registry instance killed mid-burst: HAProxy routes around it; every 2xx has its data and AuditEvent (R7)', async () => {
    const victim = record.pids.instances[1];
    const answers = await burst('kill-instance', {
      atMs: 3000,
      run: async () => {
        process.kill(victim as number, 'SIGKILL');
      },
    });
    const missing = await missingOnPrimary(answers);
    const result = figures('registry instance killed', answers, missing.length);
    report.push(result);
    expect(missing).toEqual([]);
    // Requests after the balancer noticed (two failed checks 250 ms apart) all succeed.
    expect(answers.filter((a) => a.askedAt > 5000).every((a) => a.status >= 200 && a.status < 300)).toBe(
      true,
    );
    expect(result.acknowledged).toBeGreaterThan(100);
    // Back to two instances for the next faults.
    record.pids.instances[1] = await startInstance(
      replicatedInstanceSpec(layout, 1),
      path.join(layout.dir, 'instance-2.log'),
    );
  }, 120_000);

  it('the standby stopped mid-burst: searches fall back to the primary and nothing fails', async () => {
    const [, standby] = replicatedNodes(layout);
    const replicaReads = () =>
      Promise.all(layout.metricsPorts.map((port) => metricValue(port, 'nir_replica_reads_total')));
    const fallbacks = () =>
      Promise.all(layout.metricsPorts.map((port) => metricValue(port, 'nir_replica_fallbacks_total')));
    const [readsBefore, fallbacksBefore] = [await replicaReads(), await fallbacks()];
    const answers = await burst('stop-standby', {
      atMs: 2000,
      run: () => (standby as PgCluster).stop('fast'),
    });
    const missing = await missingOnPrimary(answers);
    const result = figures('standby stopped', answers, missing.length);
    report.push(result);
    expect(missing).toEqual([]);
    expect(result.failed).toBe(0);
    // Both instances served searches from the standby, and each fell back to the primary.
    const [readsAfter, fallbacksAfter] = [await replicaReads(), await fallbacks()];
    for (const [i, reads] of readsAfter.entries()) expect(reads).toBeGreaterThan(readsBefore[i] as number);
    for (const [i, count] of fallbacksAfter.entries())
      expect(count).toBeGreaterThan(fallbacksBefore[i] as number);
    // Writes waited for the standby at most the keeper's grace period (and a round).
    expect(result.slowestMs).toBeLessThan(layout.graceMs + 3000);
    // The standby back: the keeper makes replication synchronous again before the next fault.
    await (standby as PgCluster).start();
    await waitFor(
      'synchronous replication again',
      async () => (await readKeeperState(layout.dir))?.mode === 'synchronous',
      30_000,
    );
  }, 120_000);

  it('the primary killed mid-burst: the synchronous standby is promoted and nothing acknowledged is lost', async () => {
    const [primary] = replicatedNodes(layout);
    const answers = await burst('kill-primary', { atMs: 3000, run: () => (primary as PgCluster).crash() });
    // The instances found the new primary by themselves: the last second of the burst succeeds.
    const missing = await missingOnPrimary(answers);
    const result = figures('primary killed', answers, missing.length);
    report.push(result);
    expect((await currentPrimary()).name).toBe('nir_b');
    expect(missing).toEqual([]);
    expect(answers.filter((a) => a.askedAt > 7000).every((a) => a.status >= 200 && a.status < 300)).toBe(
      true,
    );
    // Errors only during the switch, bounded.
    expect(result.errorWindowSeconds).toBeLessThan(10);
  }, 120_000);
});
