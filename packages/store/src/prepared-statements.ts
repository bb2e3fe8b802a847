/**
 * Server-side prepared statements for the PostgreSQL pool. Kysely sends every query as an
 * unnamed statement, so PostgreSQL parses and plans the consumer search (a CTE over the hash
 * partitions) on every request; planning cost more than running it. Here each connection names
 * the parameterised statements it sees (up to a bound), so PostgreSQL parses them once per
 * connection and reuses the plan: the same text always gets the same plan cache entry.
 */
import type pg from 'pg';

/** The most distinct statements one connection prepares; others run unnamed. */
export const PREPARED_PER_CONNECTION = 256;

type QueryArgs = [unknown, ...unknown[]];

/** Makes `client` send parameterised text queries as named (prepared) statements. */
export function prepareStatementsOn(client: pg.PoolClient, limit = PREPARED_PER_CONNECTION): void {
  const names = new Map<string, string>();
  const query = client.query.bind(client) as (...args: QueryArgs) => unknown;
  const preparing = (...args: QueryArgs): unknown => {
    const [text, values, ...rest] = args;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      let name = names.get(text);
      if (name === undefined && names.size < limit) {
        name = `nir_${names.size}`;
        names.set(text, name);
      }
      if (name !== undefined) return query({ name, text, values }, ...rest);
    }
    return query(...args);
  };
  client.query = preparing as typeof client.query;
}
