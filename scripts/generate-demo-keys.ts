/**
 * Regenerates the DEMO key pairs in demo/keys/ (one per client in demo/catalogue.json, with the
 * algorithm it names). Demo keys are public on purpose and refused unless demo mode is on.
 * Usage: node scripts/generate-demo-keys.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair } from 'jose';

const demoDir = new URL('../demo/', import.meta.url);
const catalogue = JSON.parse(await readFile(new URL('catalogue.json', demoDir), 'utf8')) as {
  clients: { clientId: string; alg: string }[];
};
for (const { clientId, alg } of catalogue.clients) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const kid = `${clientId}-1`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  await writeFile(
    new URL(`keys/${clientId}.public.jwk.json`, demoDir),
    `${JSON.stringify(publicJwk, null, 2)}\n`,
  );
  await writeFile(
    new URL(`keys/${clientId}.private.jwk.json`, demoDir),
    `${JSON.stringify(privateJwk, null, 2)}\n`,
  );
  console.log(`demo key ${kid} (${alg})`);
}
