/**
 * `GET [base]/DocumentReference/{id}/_history` for the owning provider (R10): every kept
 * version, newest first, as a FHIR history Bundle. Deletions and supersessions appear as
 * entries with a request and no resource.
 */
import type { Bundle, BundleEntry, DocumentReference } from '@medplum/fhirtypes';
import type { PointerVersion } from '@nir/store';

const METHOD: Record<PointerVersion['action'], 'POST' | 'PUT' | 'DELETE'> = {
  create: 'POST',
  update: 'PUT',
  delete: 'DELETE',
  supersede: 'DELETE',
};

const STATUS: Record<PointerVersion['action'], string> = {
  create: '201 Created',
  update: '200 OK',
  delete: '200 OK',
  supersede: '200 OK',
};

/** The history Bundle of one pointer. */
export function historyBundle(baseUrl: string, versions: PointerVersion[]): Bundle<DocumentReference> {
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: versions.length,
    entry: versions.map((version): BundleEntry<DocumentReference> => {
      const url = `DocumentReference/${version.id}`;
      const entry: BundleEntry<DocumentReference> = {
        fullUrl: `${baseUrl}/${url}/_history/${version.version}`,
        request: {
          method: METHOD[version.action],
          url: version.action === 'create' ? 'DocumentReference' : url,
        },
        response: {
          status: STATUS[version.action],
          etag: `W/"${version.version}"`,
          lastModified: version.recordedAt,
        },
      };
      if (version.resource) entry.resource = version.resource;
      if (version.supersededBy) {
        entry.response = {
          ...entry.response,
          outcome: {
            resourceType: 'OperationOutcome',
            issue: [
              {
                severity: 'information',
                code: 'informational',
                diagnostics: `Superseded by DocumentReference/${version.supersededBy}`,
              },
            ],
          },
        } as BundleEntry['response'];
      }
      return entry;
    }),
  };
}
