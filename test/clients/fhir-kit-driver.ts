/**
 * fhir-kit-client (Vermonster) driving the flow. It has no OAuth client: the token comes from
 * the registry's token endpoint (discovered with `smartAuthMetadata()`) by the signed-JWT
 * client assertion, then `bearerToken`. NRL's headers go through `customHeaders` (the ODS
 * code) and `requestSigner` (a fresh X-Request-Id per request), both documented hooks.
 */
import type {
  Bundle,
  CapabilityStatement,
  DocumentReference,
  OperationOutcome,
  Resource,
} from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import type { ClientDriver, ClientSession, ConnectOptions } from './flow.ts';

async function token(options: ConnectOptions, client: Client): Promise<string> {
  const metadata = (await client.smartAuthMetadata()) as { authorizeUrl?: URL; tokenUrl?: URL };
  const tokenUrl = metadata.tokenUrl?.toString() ?? `${options.url}/oauth2/token`;
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await options.assertion(),
    }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token refused: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

export const fhirKitDriver: ClientDriver = {
  name: 'fhir-kit-client',
  async connect(options) {
    const client = new Client({
      baseUrl: `${options.url}/${options.base}/FHIR/R4`,
      customHeaders: { 'NHSD-End-User-Organisation-ODS': options.ods },
      requestSigner: (_url: string, init: RequestInit) => {
        (init.headers as Headers).set('X-Request-Id', crypto.randomUUID());
      },
    });
    const accessToken = await token(options, client);
    client.bearerToken = accessToken;
    const session: ClientSession = {
      metadata: async () => (await client.capabilityStatement()) as unknown as CapabilityStatement,
      async create(pointer) {
        const outcome = await client.create({ resourceType: 'DocumentReference', body: pointer as never });
        // NRL answers a create with an OperationOutcome and the Location of the pointer.
        const location = Client.httpFor(outcome).response?.headers.get('location') ?? '';
        const id = location.split('/DocumentReference/')[1]?.split('/')[0] ?? '';
        return (await client.read({ resourceType: 'DocumentReference', id })) as unknown as DocumentReference;
      },
      read: async (id) =>
        (await client.read({ resourceType: 'DocumentReference', id })) as unknown as DocumentReference,
      searchGet: async (params) =>
        (await client.search({
          resourceType: 'DocumentReference',
          searchParams: params,
        })) as unknown as Bundle,
      searchPost: async (params) =>
        (await client.search({
          resourceType: 'DocumentReference',
          searchParams: params,
          options: { postSearch: true },
        })) as unknown as Bundle,
      nextPage: async (bundle) =>
        (await client.nextPage({ bundle: bundle as never })) as unknown as Bundle | undefined,
      update: async (pointer, ifMatch) =>
        (await client.update({
          resourceType: 'DocumentReference',
          id: pointer.id as string,
          body: pointer as never,
          options: { headers: { 'If-Match': ifMatch } },
        })) as unknown as Resource,
      remove: async (id, ifMatch) =>
        (await client.delete({
          resourceType: 'DocumentReference',
          id,
          options: { headers: { 'If-Match': ifMatch } },
        })) as unknown as Resource,
      transaction: async (bundle) =>
        (await client.transaction({ body: bundle as never })) as unknown as Bundle,
      auditSearch: async (params) =>
        (await client.search({ resourceType: 'AuditEvent', searchParams: params })) as unknown as Bundle,
      subjectAccess: async (params) =>
        (await client.operation({
          name: '$audit',
          resourceType: 'Patient',
          method: 'GET',
          input: params,
        })) as unknown as Bundle,
      async bulkExport(since) {
        const kickOff = await client.operation({
          name: '$export',
          method: 'POST',
          input: {
            resourceType: 'Parameters',
            parameter: [
              { name: '_type', valueString: 'AuditEvent' },
              { name: '_since', valueInstant: since },
            ],
          },
          options: { headers: { Prefer: 'respond-async' } },
        });
        const status = Client.httpFor(kickOff).response?.headers.get('content-location') ?? '';
        let manifest: { output: { url: string }[] } | undefined;
        for (let i = 0; i < 100 && !manifest; i++) {
          const polled = await client.request(status);
          if (Client.httpFor(polled).response?.status === 200)
            manifest = polled as unknown as typeof manifest;
          else await new Promise((resolve) => setTimeout(resolve, 200));
        }
        if (!manifest) throw new Error('the export did not complete');
        // fhir-kit-client parses every body as one JSON document and has no NDJSON support:
        // the files are fetched as the Bulk Data spec says, with the same bearer token.
        const files: string[] = [];
        for (const file of manifest.output) {
          const response = await fetch(file.url, {
            headers: {
              authorization: `Bearer ${accessToken}`,
              'x-request-id': crypto.randomUUID(),
              'nhsd-end-user-organisation-ods': options.ods,
              accept: 'application/fhir+ndjson',
            },
          });
          files.push(await response.text());
        }
        return { manifest, files };
      },
      async failure(call) {
        try {
          await call;
        } catch (error) {
          const response = (error as { response?: { status: number; data: unknown } }).response;
          if (response) return { status: response.status, outcome: response.data as OperationOutcome };
          throw error;
        }
        throw new Error('expected the call to fail');
      },
    };
    return session;
  },
};
