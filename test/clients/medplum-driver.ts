/**
 * Medplum's `MedplumClient` (@medplum/core) driving the flow, logged in with its JWT-assertion
 * client login (`startJwtAssertionLogin`). NRL's headers go through its documented hooks:
 * `defaultHeaders` (the ODS code) and `fetch` (a fresh X-Request-Id per request).
 */
import { ClientStorage, MedplumClient, MemoryStorage, OperationOutcomeError } from '@medplum/core';
import type { Bundle, CapabilityStatement, DocumentReference, Resource } from '@medplum/fhirtypes';
import type { ClientDriver, ClientSession } from './flow.ts';

export const medplumDriver: ClientDriver = {
  name: 'MedplumClient',
  async connect(options) {
    const medplum = new MedplumClient({
      baseUrl: `${options.url}/`,
      fhirUrlPath: `${options.base}/FHIR/R4/`,
      tokenUrl: `${options.url}/oauth2/token`,
      clientId: options.clientId,
      storage: new ClientStorage(new MemoryStorage()),
      defaultHeaders: { 'NHSD-End-User-Organisation-ODS': options.ods },
      fetch: (url: string | URL | Request, init?: RequestInit) => {
        const headers = new Headers(init?.headers);
        if (!headers.has('x-request-id')) headers.set('X-Request-Id', crypto.randomUUID());
        return fetch(url, { ...init, headers });
      },
    });
    await medplum.startJwtAssertionLogin(await options.assertion());
    const session: ClientSession = {
      metadata: async () =>
        (await medplum.get(medplum.fhirUrl('metadata'), { cache: 'no-cache' })) as CapabilityStatement,
      // NRL answers a create with an OperationOutcome and the Location: Medplum follows it.
      create: async (pointer) =>
        (await medplum.createResource(pointer, { followRedirectOnCreated: true })) as DocumentReference,
      read: async (id) => medplum.readResource('DocumentReference', id, { cache: 'no-cache' }),
      searchGet: async (params) => medplum.search('DocumentReference', params, { cache: 'no-cache' }),
      searchPost: async (params) =>
        (await medplum.post(
          medplum.fhirUrl('DocumentReference', '_search'),
          new URLSearchParams(params).toString(),
          'application/x-www-form-urlencoded',
        )) as Bundle,
      async nextPage(bundle) {
        const next = bundle.link?.find((l) => l.relation === 'next')?.url;
        return next ? ((await medplum.get(next, { cache: 'no-cache' })) as Bundle) : undefined;
      },
      update: async (pointer, ifMatch) =>
        (await medplum.updateResource(pointer, { headers: { 'If-Match': ifMatch } })) as Resource,
      remove: async (id, ifMatch) =>
        (await medplum.deleteResource('DocumentReference', id, {
          headers: { 'If-Match': ifMatch },
        })) as Resource,
      transaction: async (bundle) => medplum.executeBatch(bundle),
      auditSearch: async (params) => {
        const query = new URLSearchParams();
        for (const [k, v] of Object.entries(params)) for (const value of [v].flat()) query.append(k, value);
        return medplum.search('AuditEvent', query, { cache: 'no-cache' });
      },
      async subjectAccess(params) {
        const url = medplum.fhirUrl('Patient', '$audit');
        for (const [k, v] of Object.entries(params))
          for (const value of [v].flat()) url.searchParams.append(k, value);
        return (await medplum.get(url, { cache: 'no-cache' })) as Bundle;
      },
      async bulkExport(since) {
        const manifest = (await medplum.bulkExport('', 'AuditEvent', since, {
          pollStatusOnAccepted: true,
          pollStatusPeriod: 200,
        })) as { output: { url: string }[] };
        const files: string[] = [];
        for (const file of manifest.output) files.push(await (await medplum.download(file.url)).text());
        return { manifest, files };
      },
      async failure(call) {
        try {
          await call;
        } catch (error) {
          // MedplumClient keeps the OperationOutcome of a failure, not its HTTP status.
          if (error instanceof OperationOutcomeError) return { outcome: error.outcome };
          throw error;
        }
        throw new Error('expected the call to fail');
      },
    };
    return session;
  },
};
