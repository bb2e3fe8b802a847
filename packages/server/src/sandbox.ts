/**
 * The sandbox rule at start (R15): a registry with `NIR_SANDBOX=true` marks its database as a
 * sandbox (the database refuses when it has ever held a pointer), and a registry without it
 * refuses to start on a sandbox database, so test data and production data never share one.
 */
import type { SandboxStore } from '@nir/store';

/** Marks or checks the database according to `sandbox`; throws a clear error on a mismatch. */
export async function checkSandbox(store: SandboxStore, sandbox: boolean): Promise<void> {
  if (sandbox) {
    try {
      await store.mark();
    } catch (error) {
      throw new Error(
        `NIR_SANDBOX=true on a database that has held pointers outside the sandbox: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return;
  }
  if (await store.isMarked()) {
    throw new Error('this database is a conformance sandbox: start the registry with NIR_SANDBOX=true');
  }
}
