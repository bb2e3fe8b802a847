/**
 * The CLI's database: the same one the server uses, found from the same environment variables
 * (DATABASE_URL, NIR_DATA_DIR, NIR_DB_POOL_SIZE) through the server's `readConfig()`.
 */
import { readConfig } from '@nir/server';
import { openStore, type Store } from '@nir/store';
import { CliError } from './errors.ts';

/** Opens (and migrates) the registry's database described by `env`. */
export async function openCliStore(env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(env);
  } catch (error) {
    throw new CliError(`Configuration error: ${(error as Error).message}`, 1, { cause: error });
  }
  try {
    return await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.poolSize,
    });
  } catch (error) {
    const message = (error as Error).message;
    const where = config.databaseUrl
      ? 'the PostgreSQL database (DATABASE_URL)'
      : `the embedded database at ${config.dataDir}`;
    if (/in use by process/.test(message)) {
      throw new CliError(
        `${message}\nWhile the server runs, use its admin API (/admin/organisations, /admin/clients, /admin/grants, ` +
          '/admin/changes, /admin/signing-keys/rotate) with a token from: ' +
          'pnpm nir token --client demo-admin --scope admin/catalogue',
        1,
        { cause: error },
      );
    }
    throw new CliError(`Cannot open ${where}: ${message}`, 1, { cause: error });
  }
}

/** Gives commands a store for the length of one piece of work. */
export interface StoreProvider {
  /** Runs `work` with an open store, and closes the store afterwards if this provider opened it. */
  withStore<T>(work: (store: Store) => Promise<T>): Promise<T>;
}

/** A provider that opens the database for each command and always closes it. */
export function openingStoreProvider(open: () => Promise<Store>): StoreProvider {
  return {
    async withStore(work) {
      const store = await open();
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    },
  };
}

/** A provider over a store someone else owns (tests): used as is, never closed here. */
export function sharedStoreProvider(store: Store): StoreProvider {
  return { withStore: (work) => work(store) };
}
