/** The audit role's scripted checks: audit search, read, the Bulk Data export, refusals (R7–R9). */
import type { KitClient } from './client.ts';
import { checkHeaderRefusals } from './common.ts';
import type { Script } from './script.ts';

const BASE = '/audit/FHIR/R4';

/** Runs the audit checks. `started` bounds the searches and the export. */
export async function runAudit(script: Script, client: KitClient, started: string): Promise<void> {
  const window = () =>
    new URLSearchParams([
      ['date', `ge${started}`],
      ['date', `lt${new Date(Date.now() + 60_000).toISOString()}`],
    ]);
  await script.check(
    {
      id: 'RUN-AUDIT-SEARCH',
      title: 'Search and read the audit trail',
      requirement: 'R7, R8',
      criterion:
        "GET AuditEvent?date=ge…&date=lt…: 200 searchset holding the run's own earlier request; GET AuditEvent/{id}: 200",
      hint: 'date needs both bounds; an organisation sees events requested for it and events on its pointers.',
    },
    async (e) => {
      const first = await client.send('GET', `${BASE}/AuditEvent?${window()}&_count=5`);
      e.status(first, 200);
      const second = await client.send('GET', `${BASE}/AuditEvent?${window()}&_count=50`);
      e.status(second, 200);
      const events = (
        (second.body as { entry?: { resource?: { id?: string; entity?: unknown[] } }[] }).entry ?? []
      ).map((x) => x.resource);
      const mine = events.find((ev) =>
        JSON.stringify(ev?.entity ?? []).includes(first.exchange.requestId ?? '-'),
      );
      e.expect(mine !== undefined, "the first search's AuditEvent is not in the second search");
      if (mine?.id) e.status(await client.send('GET', `${BASE}/AuditEvent/${mine.id}`), 200);
      const undated = await client.send('GET', `${BASE}/AuditEvent`);
      e.status(undated, 400, 'INVALID_PARAMETER');
      return `found the run's own search (${mine?.id ?? 'none'})`;
    },
  );

  await script.check(
    {
      id: 'RUN-AUDIT-EXPORT',
      title: 'Bulk Data export of the audit',
      requirement: 'R8',
      criterion:
        '$export with Prefer respond-async: 202 + Content-Location; polling gives 202 then 200 with a manifest; each file is NDJSON of AuditEvents; DELETE cancels (202)',
      hint: 'Poll the Content-Location, honouring Retry-After; files need the access token.',
    },
    async (e) => {
      const kickOff = await client.send(
        'GET',
        `${BASE}/$export?_type=AuditEvent&_since=${encodeURIComponent(started)}`,
        {
          headers: { prefer: 'respond-async' },
        },
      );
      e.status(kickOff, 202);
      const status = kickOff.headers.get('content-location');
      if (!status) throw new Error('no Content-Location');
      let poll = await client.send('GET', status);
      for (let i = 0; poll.status === 202 && i < 30; i++) {
        const wait = Math.min(Number(poll.headers.get('retry-after') ?? '1') || 1, 5);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        poll = await client.send('GET', status);
      }
      e.status(poll, 200);
      const manifest = poll.body as { output?: { type?: string; url?: string }[] };
      let events = 0;
      for (const file of (manifest.output ?? []).slice(0, 2)) {
        const download = await client.send('GET', file.url ?? '');
        e.saw(download.exchange);
        e.expect(download.status === 200, `file ${download.status}`);
        for (const line of download.text.split('\n').filter((l) => l.trim() !== '')) {
          const event = JSON.parse(line) as { resourceType?: string };
          e.expect(event.resourceType === 'AuditEvent', 'a line is not an AuditEvent');
          events++;
        }
      }
      e.status(await client.send('DELETE', status), 202);
      return `export of ${events} events; job cancelled`;
    },
  );

  await checkHeaderRefusals(script, client, `${BASE}/AuditEvent?${window()}`);
}
