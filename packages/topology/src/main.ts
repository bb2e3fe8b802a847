/**
 * `pnpm topology up|down|status [--citus] [--remove]`: the registry beyond one machine, on
 * loopback (issue 19). See docs/SCALING.md ("The topology on one machine") for what runs where.
 */
import { citusLayout, downCitus, statusCitus, upCitus } from './citus.ts';
import { primaryUrl, replicatedLayout, replicaUrl } from './layout.ts';
import { downReplicated, statusReplicated, upReplicated } from './replicated.ts';

/** The command's usage text. */
export const USAGE = `Usage: pnpm topology <up|down|status> [--citus] [--remove]

  up        the replicated topology: PostgreSQL primary (node a, port 5433) and synchronous
            streaming standby (node b, 5434), the keeper, two registry instances (8091, 8092)
            behind HAProxy on http://127.0.0.1:8090 (statistics on 8099)
  up --citus
            the Citus topology: coordinator (5440) and two workers (5441, 5442), and a registry
            instance on the coordinator on http://127.0.0.1:8088
  down      stops what up started (instances drain first); --remove also deletes the data
  status    what runs, each node's role and replication, the balancer's view, the keeper's mode

Environment: NIR_TOPOLOGY_DIR (/tmp/nir-topology), NIR_TOPOLOGY_PORT_BASE (5433),
NIR_TOPOLOGY_HTTP_BASE (8090), NIR_TOPOLOGY_INSTANCES (2), NIR_TOPOLOGY_SYNCHRONOUS (true),
NIR_REPLICA_MAX_LAG (2s); NIR_CITUS_DIR (/tmp/nir-topology-citus), NIR_CITUS_PORT_BASE (5440),
NIR_CITUS_WORKERS (2), NIR_CITUS_HTTP_PORT (8088; 0: no instance).`;

const say = (line: string) => console.log(`topology: ${line}`);

/** Runs one command; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const citus = flags.includes('--citus');
  const remove = flags.includes('--remove');
  const unknown = flags.filter((f) => !['--citus', '--remove'].includes(f));
  if (unknown.length > 0 || !['up', 'down', 'status'].includes(command ?? '')) {
    console.error(USAGE);
    return 2;
  }
  if (citus) {
    const layout = citusLayout();
    if (command === 'up') {
      const url = await upCitus(layout, { instance: true }, say);
      say(`up: DATABASE_URL=${url}`);
    } else if (command === 'down') {
      await downCitus(layout.dir, remove, say);
    } else {
      const status = await statusCitus(layout.dir);
      console.log(status ? JSON.stringify(status, null, 2) : `no Citus topology in ${layout.dir}`);
    }
    return 0;
  }
  const layout = replicatedLayout();
  if (command === 'up') {
    await upReplicated(layout, say);
    say(`up: http://127.0.0.1:${layout.balancerPort}`);
    say(`DATABASE_URL=${primaryUrl(layout)}`);
    say(`DATABASE_REPLICA_URL=${replicaUrl(layout)}`);
  } else if (command === 'down') {
    await downReplicated(layout.dir, remove, say);
  } else {
    const status = await statusReplicated(layout.dir);
    console.log(status ? JSON.stringify(status, null, 2) : `no topology in ${layout.dir}`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`topology: ${error.message}`);
  return 1;
});
