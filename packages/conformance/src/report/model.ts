/**
 * The conformance report (R15): what was judged, against which registry, profiles and plan
 * versions, and each check with its evidence and hint. One JSON document; the JUnit XML and
 * HTML renderings and the signature are all made from it.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult } from '../checks/types.ts';

/** The kit's own version: bump with any change to a check's criterion. */
export const KIT_VERSION = '1.0.0';

/** A published conformance resource and its version. */
export interface ProfileVersion {
  resourceType: string;
  id: string;
  version: string;
}

/** What the report was judged against. */
export interface RegistryFacts {
  url?: string | undefined;
  version: string;
  sandbox?: boolean | undefined;
  profiles: ProfileVersion[];
}

/** A conformance report. */
export interface ConformanceReport {
  kit: { name: 'nir-conformance'; version: string };
  /** `verify`: a supplier's system observed; `run`: the kit drove the registry. */
  kind: 'verify' | 'run';
  registry: RegistryFacts;
  plan: { name: string; version: string; title: string };
  /** The plan's steps (verify reports): what the supplier did, and the checks judging each. */
  steps?: { id: string; do: string; checks: string[] }[] | undefined;
  client: { id: string; ods?: string | undefined; role?: string | undefined };
  period: { since: string; until: string };
  generatedAt: string;
  summary: { checks: number; passed: number; failed: number; result: 'pass' | 'fail' };
  checks: CheckResult[];
}

/** The summary of a list of results. */
export function summarise(checks: readonly CheckResult[]): ConformanceReport['summary'] {
  const failed = checks.filter((c) => c.status === 'fail').length;
  return {
    checks: checks.length,
    passed: checks.length - failed,
    failed,
    result: failed === 0 && checks.length > 0 ? 'pass' : 'fail',
  };
}

/**
 * The registry's version (the workspace `package.json`) and the versions of the published
 * profiles (`fhir-profiles/*.json`) of the installation the kit runs in.
 */
export async function localRegistryFacts(repoRoot: string, sandbox?: boolean): Promise<RegistryFacts> {
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version?: string };
  const dir = path.join(repoRoot, 'fhir-profiles');
  const profiles: ProfileVersion[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    const resource = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Partial<ProfileVersion>;
    if (resource.resourceType && resource.id && resource.version) {
      profiles.push({ resourceType: resource.resourceType, id: resource.id, version: resource.version });
    }
  }
  return { version: pkg.version ?? 'unknown', ...(sandbox !== undefined ? { sandbox } : {}), profiles };
}
