/** Checks every role's run makes: the token flow, request ids echoed, discovery. */
import type { KitClient } from './client.ts';
import type { Script } from './script.ts';

/** The token flow: one token from a signed assertion, bearer, at most 300 s, scoped. */
export async function checkTokenFlow(script: Script, client: KitClient, scope: string): Promise<boolean> {
  return script.check(
    {
      id: 'RUN-TOKEN',
      title: 'Token flow: client credentials with a signed client assertion',
      requirement: 'R18',
      criterion: `POST /oauth2/token answers 200 with a bearer token of at most 300 s whose scope includes ${scope}`,
      hint: 'Check the client is registered with this public key, for this ODS code and role, and that the grant exists.',
    },
    async (e) => {
      const { response } = await client.token();
      e.saw(response.exchange);
      const body = response.body as { token_type?: string; expires_in?: number; scope?: string };
      e.expect(body.token_type?.toLowerCase() === 'bearer', `token_type ${body.token_type}`);
      e.expect((body.expires_in ?? 0) > 0 && (body.expires_in ?? 0) <= 300, `expires_in ${body.expires_in}`);
      e.expect((body.scope ?? '').split(' ').includes(scope), `scope '${body.scope}' lacks ${scope}`);
      return `token issued, scope '${body.scope}', expires_in ${body.expires_in}`;
    },
  );
}

/** Every request of the run carried a unique X-Request-Id and the registry echoed it. */
export async function checkRequestIdsEchoed(script: Script, client: KitClient): Promise<boolean> {
  return script.check(
    {
      id: 'RUN-REQUEST-ID-ECHO',
      title: 'X-Request-Id echoed on every response',
      requirement: 'R16',
      criterion: 'Each response to a request with X-Request-Id carries the same X-Request-Id',
      hint: 'The registry must echo X-Request-Id (NRL) on success and refusal alike.',
    },
    async (e) => {
      const sent = client.exchanges.filter((x) => x.requestId !== null);
      for (const x of sent) {
        if (x.echoed !== x.requestId) {
          e.saw(x, `echoed ${x.echoed ?? 'nothing'}`);
          e.expect(false, `${x.method} ${x.path}: X-Request-Id not echoed`);
        }
      }
      return `${sent.length} request ids echoed`;
    },
  );
}

/** The standard refusals every base gives: no X-Request-Id 400, no token 401. */
export async function checkHeaderRefusals(script: Script, client: KitClient, path: string): Promise<boolean> {
  return script.check(
    {
      id: 'RUN-REFUSALS-HEADERS',
      title: 'Missing X-Request-Id and missing token are refused',
      requirement: 'R16, R18',
      criterion: 'No X-Request-Id: 400 MISSING_OR_INVALID_HEADER; no bearer token: 401 ACCESS_DENIED',
      hint: 'The guard checks X-Request-Id first, then the token, on every FHIR request.',
    },
    async (e) => {
      e.status(await client.send('GET', path, { noRequestId: true }), 400, 'MISSING_OR_INVALID_HEADER');
      const noToken = await client.send('GET', path, { noToken: true });
      e.status(noToken, 401, 'ACCESS_DENIED');
      e.expect(
        (noToken.headers.get('www-authenticate') ?? '').startsWith('Bearer'),
        '401 without WWW-Authenticate: Bearer',
      );
      return 'both refused as the contract says';
    },
  );
}
