/**
 * `GET [base]/metadata`: the CapabilityStatement of each FHIR base, loaded from
 * `fhir-profiles/` at start (the published files are the source of truth) and completed with
 * the live URLs. No authentication, cacheable (mhd-balp.md §7).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { RequestHandler } from 'express';
import { sendFhir } from '../http/respond.ts';

/** The repository's `fhir-profiles/` folder. */
export const DEFAULT_PROFILES_DIR = fileURLToPath(new URL('../../../../fhir-profiles', import.meta.url));

/** Loads `CapabilityStatement-<id>.json` and fills in `[base]` and the token endpoint. */
export async function loadCapabilityStatement(
  profilesDir: string,
  id: string,
  baseUrl: string,
  tokenUrl: string,
): Promise<CapabilityStatement> {
  const text = await readFile(path.join(profilesDir, `CapabilityStatement-${id}.json`), 'utf8');
  const statement = JSON.parse(text.replaceAll('[base]', baseUrl)) as CapabilityStatement;
  const security = statement.rest?.[0]?.security;
  if (security) {
    security.extension = [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [{ url: 'token', valueUri: tokenUrl }],
      },
    ];
  }
  return statement;
}

/** Serves a loaded CapabilityStatement. */
export function metadataRoute(statement: CapabilityStatement): RequestHandler {
  const body = JSON.stringify(statement);
  return (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    sendFhir(res, 200, JSON.parse(body));
  };
}
