/**
 * The pointer terminology (R2, R13): pointer types, categories, practice settings, formats and
 * content types, read from the published ValueSets and ConceptMaps in `fhir-profiles/`. Adding
 * a pointer type is a data change there (a concept and a type → category mapping), never a code
 * change here.
 */
import type { ConceptMap, Resource, ValueSet } from '@medplum/fhirtypes';

/** The canonical base of everything the registry publishes. */
export const NIR_CANONICAL = 'https://fhir.nir.nhs.uk';

/** Canonical URLs of the value sets and maps the pointer rules bind to. */
export const NIR_TERMINOLOGY_URLS = {
  pointerType: `${NIR_CANONICAL}/ValueSet/NIR-PointerType`,
  pointerCategory: `${NIR_CANONICAL}/ValueSet/NIR-PointerCategory`,
  practiceSetting: `${NIR_CANONICAL}/ValueSet/NIR-PracticeSetting`,
  formatCode: `${NIR_CANONICAL}/ValueSet/NIR-FormatCode`,
  contentType: `${NIR_CANONICAL}/ValueSet/NIR-ContentType`,
  typeCategory: `${NIR_CANONICAL}/ConceptMap/NIR-PointerTypeCategory`,
  contentTypeFormat: `${NIR_CANONICAL}/ConceptMap/NIR-ContentTypeFormat`,
} as const;

/** A coded concept with its one fixed display. */
export interface Concept {
  system: string;
  code: string;
  display: string;
}

/** One value set, flattened to its concepts. */
export class ConceptSet {
  readonly #byKey: Map<string, Concept>;
  /** The code systems the set draws from, in the order published. */
  readonly systems: readonly string[];

  constructor(concepts: Concept[]) {
    this.#byKey = new Map(concepts.map((concept) => [key(concept.system, concept.code), concept]));
    this.systems = [...new Set(concepts.map((concept) => concept.system))];
  }

  /** The concept for `system|code`, if the set holds it. */
  get(system: string | undefined, code: string | undefined): Concept | undefined {
    if (system === undefined || code === undefined) return undefined;
    return this.#byKey.get(key(system, code));
  }

  /** The concept with `code` in any of the set's systems (for code-only bindings such as MIME types). */
  getCode(code: string): Concept | undefined {
    for (const system of this.systems) {
      const concept = this.get(system, code);
      if (concept) return concept;
    }
    return undefined;
  }

  /** Every concept of the set. */
  all(): Concept[] {
    return [...this.#byKey.values()];
  }
}

/** The pointer terminology the validator needs. */
export interface Terminology {
  pointerTypes: ConceptSet;
  categories: ConceptSet;
  practiceSettings: ConceptSet;
  formats: ConceptSet;
  contentTypes: ConceptSet;
  /** The one category each pointer type belongs to, keyed `system|code` of the type. */
  categoryOfType(system: string, code: string): Concept | undefined;
  /** The format codes allowed with a content type (empty when none). */
  formatsForContentType(contentType: string): Concept[];
}

function key(system: string, code: string): string {
  return `${system}|${code}`;
}

/** A terminology file that cannot be used: the server must not start with it. */
export class TerminologyError extends Error {
  override name = 'TerminologyError';
}

function expand(valueSet: ValueSet): Concept[] {
  const concepts: Concept[] = [];
  for (const include of valueSet.compose?.include ?? []) {
    if (include.filter?.length || include.valueSet?.length || !include.system) {
      throw new TerminologyError(`${valueSet.url}: only explicit concept lists can be enforced`);
    }
    for (const concept of include.concept ?? []) {
      // A concept published without a display (a MIME type, say) is displayed as its code.
      const code = concept.code as string;
      concepts.push({ system: include.system, code, display: concept.display ?? code });
    }
  }
  return concepts;
}

function find<T extends Resource>(resources: readonly Resource[], type: T['resourceType'], url: string): T {
  const found = resources.find((r) => r.resourceType === type && (r as { url?: string }).url === url);
  if (!found) throw new TerminologyError(`the published ${type} ${url} is missing`);
  return found as T;
}

function conceptSet(resources: readonly Resource[], url: string): ConceptSet {
  return new ConceptSet(expand(find<ValueSet>(resources, 'ValueSet', url)));
}

/** `source system|code` → targets, for every element of every group of a ConceptMap. */
function mapTargets(map: ConceptMap): Map<string, Concept[]> {
  const targets = new Map<string, Concept[]>();
  for (const group of map.group ?? []) {
    for (const element of group.element ?? []) {
      const source = key(group.source ?? '', element.code ?? '');
      const list = targets.get(source) ?? [];
      for (const target of element.target ?? []) {
        if (!group.target || !target.code || !target.display) {
          throw new TerminologyError(`${map.url}: ${source} has a target without system, code or display`);
        }
        list.push({ system: group.target, code: target.code, display: target.display });
      }
      targets.set(source, list);
    }
  }
  return targets;
}

/**
 * Builds the terminology from the published resources. Refuses an inconsistent publication:
 * a pointer type without exactly one category, or mapped to a category outside the category set.
 */
export function buildTerminology(resources: readonly Resource[]): Terminology {
  const urls = NIR_TERMINOLOGY_URLS;
  const pointerTypes = conceptSet(resources, urls.pointerType);
  const categories = conceptSet(resources, urls.pointerCategory);
  const typeCategory = mapTargets(find<ConceptMap>(resources, 'ConceptMap', urls.typeCategory));
  for (const type of pointerTypes.all()) {
    const targets = typeCategory.get(key(type.system, type.code)) ?? [];
    const [only] = targets;
    if (targets.length !== 1 || !only) {
      throw new TerminologyError(`pointer type ${key(type.system, type.code)} needs exactly one category`);
    }
    if (!categories.get(only.system, only.code)) {
      throw new TerminologyError(`pointer type ${type.code} maps to unknown category ${only.code}`);
    }
  }
  const contentTypes = conceptSet(resources, urls.contentType);
  const contentTypeFormat = mapTargets(find<ConceptMap>(resources, 'ConceptMap', urls.contentTypeFormat));
  const formatsByContentType = new Map<string, Concept[]>();
  for (const [source, targets] of contentTypeFormat) {
    const contentType = source.slice(source.indexOf('|') + 1);
    formatsByContentType.set(contentType, [...(formatsByContentType.get(contentType) ?? []), ...targets]);
  }
  return {
    pointerTypes,
    categories,
    practiceSettings: conceptSet(resources, urls.practiceSetting),
    formats: conceptSet(resources, urls.formatCode),
    contentTypes,
    categoryOfType: (system, code) => typeCategory.get(key(system, code))?.[0],
    formatsForContentType: (contentType) => formatsByContentType.get(contentType) ?? [],
  };
}
