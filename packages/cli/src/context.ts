/**
 * What every command is given: where to write, the environment, the database and the network.
 * `buildProgram(deps)` fills in the real ones for whatever a test does not inject.
 */
import { userInfo } from 'node:os';
import { DEFAULT_DEMO_DIR } from '@nir/server';
import type { Store } from '@nir/store';
import { openCliStore, openingStoreProvider, type StoreProvider, sharedStoreProvider } from './database.ts';
import { type Output, processOutput } from './output.ts';

/** Everything a command may use. */
export interface CliContext {
  output: Output;
  env: NodeJS.ProcessEnv;
  /** Recorded as the actor of catalogue changes: `cli:<os user>`. */
  actor: string;
  stores: StoreProvider;
  fetch: typeof fetch;
  /** The repository's `demo/` folder (demo keys and catalogue). */
  demoDir: string;
}

/** What a caller (main or a test) may inject; the rest defaults to the real thing. */
export interface CliDeps {
  output?: Output;
  env?: NodeJS.ProcessEnv;
  /** An already open store: used as is and left open. */
  store?: Store;
  /** Opens the database (default: from the environment, like the server). */
  openStore?: () => Promise<Store>;
  fetch?: typeof fetch;
  actor?: string;
  demoDir?: string;
}

/** The OS user running the CLI (falls back to $USER where there is no passwd entry). */
export function osUsername(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER || env.USERNAME || 'unknown';
  }
}

/** Builds a command context from injected dependencies. */
export function createContext(deps: CliDeps = {}): CliContext {
  const env = deps.env ?? process.env;
  const open = deps.openStore ?? (() => openCliStore(env));
  return {
    output: deps.output ?? processOutput,
    env,
    actor: deps.actor ?? `cli:${osUsername(env)}`,
    stores: deps.store ? sharedStoreProvider(deps.store) : openingStoreProvider(open),
    fetch: deps.fetch ?? globalThis.fetch,
    demoDir: deps.demoDir ?? DEFAULT_DEMO_DIR,
  };
}
