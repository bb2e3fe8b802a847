import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../checks/types.ts';
import { reportJson } from './files.ts';
import { toHtml } from './html.ts';
import { toJunitXml } from './junit.ts';
import { type ConformanceReport, summarise } from './model.ts';
import { signReport, verifyReportSignature } from './sign.ts';

const hostile = '<script>alert(1)</script> & "quotes"';
const check = (status: 'pass' | 'fail'): CheckResult => ({
  id: `C-${status}`,
  title: hostile,
  requirement: 'R15',
  criterion: 'criterion',
  status,
  summary: hostile,
  evidence: [{ requestId: hostile, recorded: '2026-12-01T10:00:00Z', eventIds: ['e1'], note: hostile }],
  hint: 'a hint that says what to change',
});
const checks = [check('pass'), check('fail')];
const report: ConformanceReport = {
  kit: { name: 'nir-conformance', version: '1.0.0' },
  kind: 'verify',
  registry: {
    version: '0.1.0',
    profiles: [{ resourceType: 'StructureDefinition', id: 'NIR-DocumentReference', version: '0.2.0' }],
  },
  plan: { name: 'producer', version: '1.0.0', title: hostile },
  client: { id: 'c' },
  period: { since: 'a', until: 'b' },
  generatedAt: '2026-12-01T10:00:00Z',
  summary: summarise(checks),
  checks,
};

describe('reports', () => {
  it('summarises: any failure fails; no checks fails', () => {
    expect(report.summary).toEqual({ checks: 2, passed: 1, failed: 1, result: 'fail' });
    expect(summarise([]).result).toBe('fail');
    expect(summarise([check('pass')]).result).toBe('pass');
  });

  it('HTML escapes everything a client sent and loads nothing from the network', () => {
    const html = toHtml(report);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toMatch(/\b(src|href)=["']https?:/);
    expect(html).toContain("default-src 'none'");
  });

  it('JUnit XML escapes and counts', () => {
    const xml = toJunitXml(report);
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('tests="2" failures="1"');
    expect(xml.match(/<failure /g)).toHaveLength(1);
  });

  it("the JWS verifies with the registry's public key; another key or an altered file does not", async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' };
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    const json = reportJson(report);
    const jws = await signReport(json, jwk);
    await expect(verifyReportSignature(jws, jwks, json)).resolves.toMatchObject({
      kid: 'k1',
      matchesFile: true,
    });
    expect((await verifyReportSignature(jws, jwks, json.replace('"fail"', '"pass"'))).matchesFile).toBe(
      false,
    );
    const other = await generateKeyPair('ES256', { extractable: true });
    const otherJwks = { keys: [{ ...(await exportJWK(other.publicKey)), kid: 'k1', alg: 'ES256' }] };
    await expect(verifyReportSignature(jws, otherJwks, json)).rejects.toThrow();
  });
});
