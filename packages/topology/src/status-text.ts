/** `pnpm topology status` for a person: one line per node, instance, balancer and keeper. */
import type { ReplicatedStatus } from './replicated.ts';

/** The replicated topology's status as text (pure; tested). */
export function replicatedStatusText(status: ReplicatedStatus): string {
  const lines = [`topology in ${status.dir}`];
  for (const node of status.nodes) {
    let line = `node ${node.name.replace(/^nir_/, '')}  :${node.port}  ${node.role}`;
    if (node.role === 'primary') {
      const standbys = (node.standbys ?? [])
        .map((s) => `${s.name} ${s.syncState}${s.replayLag ? ` (replay lag ${s.replayLag})` : ''}`)
        .join(', ');
      line += `  standbys: ${standbys || 'none'}  synchronous_standby_names: '${node.synchronousStandbyNames ?? ''}'`;
    }
    lines.push(line);
  }
  status.instances.forEach((instance, i) => {
    lines.push(`instance ${i + 1}  :${instance.port}  ${instance.ready ? 'ready' : 'not ready'}`);
  });
  lines.push(
    status.balancer
      ? `HAProxy  :${status.balancer.port}  ${status.balancer.servers.map((s) => `${s.name} ${s.status}`).join(', ')}`
      : 'HAProxy  not running',
  );
  lines.push(
    status.keeper
      ? `keeper  mode ${status.keeper.mode}, primary ${status.keeper.primary ?? '-'}, synchronous standby ${status.keeper.syncStandby ?? '-'}`
      : 'keeper  not running',
  );
  return lines.join('\n');
}
