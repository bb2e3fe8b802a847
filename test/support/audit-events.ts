/** Reading the audit trail back in end-to-end tests: the events one request left. */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Store } from '@nir/store';

/** Every stored AuditEvent of `requestId`, oldest first. */
export async function eventsOfRequest(store: Store, requestId: string): Promise<AuditEvent[]> {
  const rows = await store.db
    .selectFrom('audit_event')
    .select('resource')
    .where('request_id', '=', requestId)
    .orderBy('recorded')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.resource as AuditEvent);
}

/** Polls until `requestId` has at least `count` events (group commit and deferred writes are asynchronous). */
export async function waitForEvents(
  store: Store,
  requestId: string,
  count: number,
  timeoutMs = 10_000,
): Promise<AuditEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await eventsOfRequest(store, requestId);
    if (events.length >= count || Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Reads a response body to its end or its failure: the text received and the error, if any. */
export async function readToEnd(response: Response): Promise<{ text: string; error: unknown }> {
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let text = '';
  if (!reader) return { text, error: undefined };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, error: undefined };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}
