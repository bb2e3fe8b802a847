/**
 * Stage B rules of a pointer's `content` (nrl-behaviour.md §4.3 V10, V11): content type and
 * format against the published value sets and map, the NRL content extensions, and the
 * registry's retrieval URL rule (R1). Part of the business rules, in their order.
 */
import type { Coding, DocumentReference, DocumentReferenceContent, Extension } from '@medplum/fhirtypes';
import {
  CONTENT_STABILITY_SYSTEM,
  CONTENT_STABILITY_URL,
  CONTENT_STABILITY_VALUESET,
  RETRIEVAL_MECHANISM_SYSTEM,
  RETRIEVAL_MECHANISM_URL,
  RETRIEVAL_MECHANISM_VALUESET,
  RETRIEVAL_MECHANISMS,
} from './codes.ts';
import { checkRetrievalUrl } from './retrieval-url.ts';
import { fail, type RuleFailure } from './rule-failure.ts';
import type { Terminology } from './terminology.ts';

/** V10, V11 and the retrieval URL rule for every `content` item; the first failure, or undefined. */
export function checkContent(pointer: DocumentReference, terminology: Terminology): RuleFailure | undefined {
  for (const [i, content] of (pointer.content ?? []).entries()) {
    const failure = checkOneContent(content, i, terminology, pointer.subject?.identifier?.value ?? '');
    if (failure) return failure;
  }
  return undefined;
}

function checkOneContent(
  content: DocumentReferenceContent,
  i: number,
  terminology: Terminology,
  nhsNumber: string,
): RuleFailure | undefined {
  const contentType = content.attachment?.contentType ?? '';
  if (!terminology.contentTypes.getCode(contentType)) {
    const allowed = terminology.contentTypes.all().map((c) => `'${c.code}'`);
    return fail(
      'V10.content-type',
      `content[${i}].attachment.contentType`,
      `Invalid contentType: ${contentType}. Must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`,
    );
  }
  const format = content.format as Coding;
  const known = terminology.formats.get(format.system, format.code);
  const allowedFormats = terminology.formatsForContentType(contentType);
  if (known && format.display !== known.display) {
    return fail(
      'V10.format-display',
      `content[${i}].format.display`,
      `Invalid display for format code '${format.code}'. Expected '${known.display}'`,
    );
  }
  if (!known || !allowedFormats.some((f) => f.system === format.system && f.code === format.code)) {
    return fail(
      'V10.format-code',
      `content[${i}].format.code`,
      `Invalid content format code: ${format.code} format code must be ${allowedFormats.map((f) => `'${f.code}'`).join(' or ')} for ${contentType} attachments.`,
    );
  }
  return (
    checkContentExtensions(content.extension ?? [], i) ??
    checkRetrievalUrl(content.attachment?.url ?? '', nhsNumber, `content[${i}].attachment.url`)
  );
}

function checkContentExtensions(extensions: Extension[], i: number): RuleFailure | undefined {
  const stability: number[] = [];
  const retrieval: number[] = [];
  for (const [j, extension] of extensions.entries()) {
    if (extension.url === CONTENT_STABILITY_URL) stability.push(j);
    else if (extension.url === RETRIEVAL_MECHANISM_URL) retrieval.push(j);
    else {
      return fail(
        'V11.unknown',
        `content[${i}].extension[${j}].url`,
        `Invalid content extension: unknown extension '${extension.url}'`,
      );
    }
  }
  for (const j of stability) {
    const failure = checkStability(extensions[j] as Extension, i, j);
    if (failure) return failure;
  }
  if (stability.length !== 1) {
    return fail(
      'V11.stability-count',
      `content[${i}].extension`,
      `Invalid content extension: Extension must have one content stability extension, see: ('${CONTENT_STABILITY_VALUESET}')`,
    );
  }
  if (retrieval.length > 1) {
    return fail(
      'V11.retrieval-count',
      `content[${i}].extension`,
      `Invalid content retrieval extension: Extension must have one content retrieval extension, see: ('${RETRIEVAL_MECHANISM_VALUESET}')`,
    );
  }
  for (const j of retrieval) {
    const coding = (extensions[j] as Extension).valueCodeableConcept?.coding?.[0];
    const code = coding?.code ?? '';
    const expected = Object.hasOwn(RETRIEVAL_MECHANISMS, code) ? RETRIEVAL_MECHANISMS[code] : undefined;
    const loc = `content[${i}].extension[${j}].valueCodeableConcept.coding[0]`;
    if (coding?.system !== RETRIEVAL_MECHANISM_SYSTEM || expected === undefined) {
      return fail(
        'V11.retrieval-code',
        `${loc}.code`,
        `Invalid content retrieval extension code: ${coding?.code}, see: ('${RETRIEVAL_MECHANISM_VALUESET}')`,
      );
    }
    if (coding.display !== expected) {
      return fail(
        'V11.retrieval-display',
        `${loc}.display`,
        `Invalid content extension display: ${coding.display} Expected display is '${expected}'`,
      );
    }
  }
  return undefined;
}

/** The stability extension's shape faults are NRL parse errors: 400 `BAD_REQUEST`. */
function checkStability(extension: Extension, i: number, j: number): RuleFailure | undefined {
  const base = `content[${i}].extension[${j}]`;
  const shapeFault = (loc: string, message: string) =>
    fail(
      'V11.stability-shape',
      `${base}.${loc}`,
      `Invalid content stability extension (${base}.${loc}: ${message}, see: ${CONTENT_STABILITY_VALUESET})`,
      'BAD_REQUEST',
    );
  const codings = extension.valueCodeableConcept?.coding;
  if (!codings) return shapeFault('valueCodeableConcept.coding', 'Field required');
  if (codings.length !== 1)
    return shapeFault('valueCodeableConcept.coding', 'List should have exactly 1 item');
  const [coding] = codings as [Coding];
  if (coding.system !== CONTENT_STABILITY_SYSTEM) {
    return shapeFault(
      'valueCodeableConcept.coding[0].system',
      `Input should be '${CONTENT_STABILITY_SYSTEM}'`,
    );
  }
  if (coding.code !== 'static' && coding.code !== 'dynamic') {
    return shapeFault('valueCodeableConcept.coding[0].code', "Input should be 'static' or 'dynamic'");
  }
  if ((coding.display ?? '').toLowerCase() !== coding.code) {
    return fail(
      'V11.stability-display',
      `${base}.valueCodeableConcept.coding[0].display`,
      `Invalid content extension display: ${coding.display} Extension display must be the same as code either 'Static' or 'Dynamic'`,
    );
  }
  return undefined;
}
