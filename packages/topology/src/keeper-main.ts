/**
 * The keeper's process (started detached by `pnpm topology up`): every 250 ms it looks at both
 * nodes, decides (keeper.ts), acts, and writes what it saw and did to keeper.json; each change
 * of mode or action is a line in keeper.log. Usage: node keeper-main.ts <topology dir>.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decide, INITIAL_STATE, type KeeperState, type NodeObservation, SYNC_NAMES } from './keeper.ts';
import { loadRecord } from './layout.ts';
import type { PgCluster } from './pg-cluster.ts';
import { replicatedNodes } from './replicated.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: keeper-main.ts <topology dir>');
const record = await loadRecord(dir);
if (!record) throw new Error(`no topology in ${dir}`);
const nodes = replicatedNodes(record.layout);
const policy = { graceMs: record.layout.graceMs, failoverMs: record.layout.failoverMs };

function log(line: string): void {
  appendFileSync(path.join(dir as string, 'keeper.log'), `${new Date().toISOString()} ${line}\n`);
}

async function observe(node: PgCluster): Promise<NodeObservation> {
  const name = node.name.replace(/^nir_/, '');
  try {
    const [facts] = await node.query<{ standby: boolean; sync_names: string }>(
      "SELECT pg_is_in_recovery() AS standby, current_setting('synchronous_standby_names') AS sync_names",
    );
    if (!facts) return { name, reachable: false };
    if (facts.standby) return { name, reachable: true, standby: true };
    const streams = await node.query<{ application: string; state: string; sync_state: string }>(
      'SELECT application_name AS application, state, sync_state FROM pg_stat_replication',
    );
    return {
      name,
      reachable: true,
      standby: false,
      syncNames: facts.sync_names,
      streams: streams.map((s) => ({ application: s.application, state: s.state, syncState: s.sync_state })),
    };
  } catch {
    return { name, reachable: false };
  }
}

async function setSyncNames(node: PgCluster, value: string): Promise<void> {
  await node.query(`ALTER SYSTEM SET synchronous_standby_names = '${value}'`);
  await node.query('SELECT pg_reload_conf()');
}

const byName = (name: string) => nodes.find((n) => n.name === `nir_${name}`) as PgCluster;
let state: KeeperState = INITIAL_STATE;
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
log(`keeper started (grace ${policy.graceMs} ms, failover ${policy.failoverMs} ms)`);
while (!stopping) {
  const observations = await Promise.all(nodes.map(observe));
  const decision = decide(state, observations, Date.now(), policy);
  if (decision.state.mode !== state.mode || decision.state.primary !== state.primary) {
    log(
      `mode ${state.mode} → ${decision.state.mode}, primary ${state.primary ?? '-'} → ${decision.state.primary ?? '-'}`,
    );
  }
  state = decision.state;
  const action = decision.action;
  try {
    if (action.kind === 'degrade') {
      log(
        `standby gone for ${policy.graceMs} ms: node ${action.node} stops waiting for it (writes are on one node)`,
      );
      await setSyncNames(byName(action.node), '');
    } else if (action.kind === 'restore') {
      log(
        `a standby streams: node ${action.node} waits for it again (synchronous_standby_names = '${SYNC_NAMES}')`,
      );
      await setSyncNames(byName(action.node), SYNC_NAMES);
    } else if (action.kind === 'promote') {
      log(
        `primary silent for ${policy.failoverMs} ms: promoting node ${action.node}, the synchronous standby`,
      );
      await byName(action.node).query('SELECT pg_promote(true, 60)');
      log(`node ${action.node} promoted`);
    } else if (action.kind === 'fence') {
      log(`node ${action.node} answers as a second primary: stopping it (fencing)`);
      await byName(action.node).stop('immediate');
    }
  } catch (error) {
    log(`${action.kind} failed: ${(error as Error).message}`);
  }
  writeFileSync(
    path.join(dir, 'keeper.json'),
    `${JSON.stringify({ at: new Date().toISOString(), state, observations, action }, null, 2)}\n`,
  );
  await new Promise((resolve) => setTimeout(resolve, 250));
}
log('keeper stopped');
