/** Checks of the producer plan: create, amend, supersede, withdraw, search, valid pointers. */
import type { ObservedVersion } from '../observe.ts';
import {
  type CheckDefinition,
  capped,
  type Evidence,
  evidenceOf,
  refused,
  succeeded,
  WRITE_SUBTYPES,
} from './types.ts';

/** A create after a delete of the same patient's pointer of the same type within this long replaces it. */
const REPLACEMENT_WINDOW_MS = 10 * 60_000;

function versionEvidence(v: ObservedVersion, note: string): Evidence {
  return {
    requestId: v.requestId,
    recorded: v.recordedAt,
    eventIds: [`${v.id}/_history/${v.version}`],
    note,
  };
}

function found(what: string, count: number): string {
  return count > 0 ? `${count} ${what}` : `no ${what} was recorded`;
}

export const producerCreate: CheckDefinition = {
  id: 'PRODUCER-CREATE',
  title: 'A pointer is published',
  requirement: 'R4, R13',
  criterion: 'At least one create answered 201',
  hint: 'POST a DocumentReference that meets the published profile to /producer/FHIR/R4/DocumentReference.',
  judge(observation) {
    const seen = observation.requests.filter((r) => r.subtype === 'create' && succeeded(r));
    return {
      pass: seen.length > 0,
      summary: found('successful create(s)', seen.length),
      evidence: capped(seen.map((r) => evidenceOf(r, `created ${r.pointers.map((p) => p.id).join(', ')}`))),
    };
  },
};

export const producerUpdate: CheckDefinition = {
  id: 'PRODUCER-UPDATE',
  title: 'A pointer is amended in place',
  requirement: 'R10, R11',
  criterion: 'At least one update of an existing pointer (version n → n+1) answered 200',
  hint: 'PUT the whole corrected DocumentReference to /producer/FHIR/R4/DocumentReference/{id}, with If-Match: W/"<version>".',
  judge(observation) {
    const seen = observation.requests.filter(
      (r) => r.subtype === 'update' && succeeded(r) && r.pointers.some((p) => p.versionBefore !== undefined),
    );
    return {
      pass: seen.length > 0,
      summary: found('successful update(s)', seen.length),
      evidence: capped(
        seen.map((r) =>
          evidenceOf(
            r,
            r.pointers
              .map((p) => `${p.id} v${p.versionBefore ?? '?'} → v${p.versionAfter ?? '?'}`)
              .join(', '),
          ),
        ),
      ),
    };
  },
};

export const producerSupersede: CheckDefinition = {
  id: 'PRODUCER-SUPERSEDE',
  title: 'A pointer is replaced by supersede',
  requirement: 'R11',
  criterion:
    'At least one pointer was removed by a new pointer carrying relatesTo replaces (one transaction)',
  hint: 'Create the replacement with relatesTo: [{code: "replaces", target: {identifier: {value: "<old id>"}}}]; the registry removes the old pointer atomically.',
  judge(observation) {
    const seen = observation.versions.filter((v) => v.action === 'supersede' && v.supersededBy);
    return {
      pass: seen.length > 0,
      summary: found('supersede(s)', seen.length),
      evidence: capped(seen.map((v) => versionEvidence(v, `${v.id} superseded by ${v.supersededBy}`))),
    };
  },
};

export const noDeleteAndCreate: CheckDefinition = {
  id: 'NO-DELETE-AND-CREATE',
  title: 'Replacements use supersede, not delete then create',
  requirement: 'R11',
  criterion:
    "No delete of a pointer followed within 10 minutes by a create of the same patient's pointer of the same type",
  hint: 'Between a delete and a create a consumer sees no pointer at all; send one create with relatesTo replaces instead.',
  judge(observation) {
    const deletes = observation.versions.filter((v) => v.action === 'delete');
    const creates = observation.versions.filter((v) => v.action === 'create' && v.version === 1);
    const pairs: Evidence[] = [];
    for (const removed of deletes) {
      const at = Date.parse(removed.recordedAt);
      const again = creates.find(
        (c) =>
          c.nhsNumber === removed.nhsNumber &&
          c.type === removed.type &&
          Date.parse(c.recordedAt) >= at &&
          Date.parse(c.recordedAt) - at <= REPLACEMENT_WINDOW_MS,
      );
      if (again) {
        pairs.push(versionEvidence(removed, `deleted ${removed.id}`));
        pairs.push(versionEvidence(again, `then created ${again.id} (same patient, type ${again.type})`));
      }
    }
    return {
      pass: pairs.length === 0,
      summary:
        pairs.length === 0
          ? `${deletes.length} delete(s), none followed by a re-create`
          : `${pairs.length / 2} delete-and-create pair(s)`,
      evidence: capped(pairs),
    };
  },
};

export const producerDelete: CheckDefinition = {
  id: 'PRODUCER-DELETE',
  title: 'A pointer is withdrawn',
  requirement: 'R11',
  criterion: 'At least one delete answered 200',
  hint: 'DELETE /producer/FHIR/R4/DocumentReference/{id} (If-Match honoured).',
  judge(observation) {
    const seen = observation.requests.filter((r) => r.subtype === 'delete' && succeeded(r));
    return {
      pass: seen.length > 0,
      summary: found('successful delete(s)', seen.length),
      evidence: capped(seen.map((r) => evidenceOf(r, `deleted ${r.pointers.map((p) => p.id).join(', ')}`))),
    };
  },
};

export const producerSearch: CheckDefinition = {
  id: 'PRODUCER-SEARCH',
  title: 'The producer searches its own pointers of a patient',
  requirement: 'R4',
  criterion: 'At least one search answered 200',
  hint: 'GET /producer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|<nhs>.',
  judge(observation) {
    const seen = observation.requests.filter((r) => r.subtype === 'search-type' && succeeded(r));
    return {
      pass: seen.length > 0,
      summary: found('successful search(es)', seen.length),
      evidence: capped(seen.map((r) => evidenceOf(r, 'searched'))),
    };
  },
};

export const validPointers: CheckDefinition = {
  id: 'VALID-POINTERS',
  title: 'Pointers are valid and of the granted types',
  requirement: 'R2, R3, R13',
  criterion: "No write refused (4xx) other than the plan's deliberate error",
  hint: 'Validate against the published profile first (POST $validate), use only the pointer types your grant lists, and map type → category as the ConceptMap says.',
  judge(observation, plan) {
    const writes = observation.requests.filter((r) => WRITE_SUBTYPES.includes(r.subtype));
    const bad = writes.filter((r) => refused(r) && r.code !== plan.expectedRefusal.code);
    return {
      pass: bad.length === 0,
      summary: `${writes.length - bad.length} of ${writes.length} write(s) accepted or refused only as the plan intends`,
      evidence: capped(bad.map((r) => evidenceOf(r, `${r.subtype} refused ${r.code}`))),
    };
  },
};
