/**
 * Writes `fhir-profiles/ValueSet-NIR-PracticeSetting.json` from a copy of NHS England's
 * England-PracticeSetting value set (an expansion, as NRL v3 enforces it on
 * `DocumentReference.context.practiceSetting`): every member, with the display NRL requires.
 * The NIR accepts exactly what NRL accepts (issue 13): the value set is data (R2, R13), and a
 * refresh is a new import, a version bump and a commit (R19).
 *
 * Usage:
 *   node scripts/profiles/import-practice-setting.ts <england-practice-setting.json> <version> <date>
 *   e.g. node scripts/profiles/import-practice-setting.ts ../shared/reference/england-practice-setting.json 0.3.0 2026-12-02
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const OUTPUT = fileURLToPath(
  new URL('../../fhir-profiles/ValueSet-NIR-PracticeSetting.json', import.meta.url),
);
const ENGLAND_PRACTICE_SETTING = 'https://fhir.nhs.uk/England/ValueSet/England-PracticeSetting';
const SNOMED = 'http://snomed.info/sct';

interface ExpansionConcept {
  system: string;
  code: string;
  display: string;
}

interface EnglandValueSet {
  url?: string;
  expansion?: { timestamp?: string; contains?: ExpansionConcept[] };
}

/**
 * The NIR practice-setting ValueSet holding every member of England-PracticeSetting.
 * @param source - The England-PracticeSetting expansion.
 * @param version - The business version of the NIR value set (R19).
 * @param date - The date of that version (YYYY-MM-DD).
 */
export function practiceSettingValueSet(
  source: EnglandValueSet,
  version: string,
  date: string,
): Record<string, unknown> {
  if (source.url !== ENGLAND_PRACTICE_SETTING) {
    throw new Error(`expected ${ENGLAND_PRACTICE_SETTING}, got ${source.url}`);
  }
  const contains = source.expansion?.contains ?? [];
  const seen = new Set<string>();
  for (const concept of contains) {
    if (concept.system !== SNOMED || !concept.code || !concept.display) {
      throw new Error(`unexpected member ${JSON.stringify(concept)}`);
    }
    if (seen.has(concept.code)) throw new Error(`duplicate member ${concept.code}`);
    seen.add(concept.code);
  }
  const concepts = [...contains]
    .sort((a, b) => a.display.localeCompare(b.display, 'en') || a.code.localeCompare(b.code))
    .map(({ code, display }) => ({ code, display }));
  return {
    resourceType: 'ValueSet',
    id: 'NIR-PracticeSetting',
    url: 'https://fhir.nir.nhs.uk/ValueSet/NIR-PracticeSetting',
    version,
    name: 'NIRPracticeSetting',
    title: 'NIR Practice Setting',
    status: 'draft',
    experimental: true,
    date,
    publisher: 'National Imaging Registry',
    description: `The care settings (DocumentReference.context.practiceSetting) of NIR pointers: every member of NHS England's England-PracticeSetting value set (${ENGLAND_PRACTICE_SETTING}, ${concepts.length} SNOMED CT services, as expanded ${source.expansion?.timestamp ?? 'undated'}), with the display England-PracticeSetting fixes: practiceSetting.coding[0].display must equal it, as NRL v3 requires. The NIR accepts exactly what NRL accepts; which pointer types an organisation may publish is the Controller Catalogue's decision, not the profile's. Change control (R19): refreshed only by importing England-PracticeSetting again (scripts/profiles/import-practice-setting.ts); bump version and date.`,
    immutable: false,
    compose: { include: [{ system: SNOMED, concept: concepts }] },
  };
}

async function main(): Promise<void> {
  const [input, version, date] = process.argv.slice(2);
  if (!input || !version || !date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    console.error('usage: import-practice-setting.ts <england-practice-setting.json> <version> <YYYY-MM-DD>');
    process.exitCode = 2;
    return;
  }
  const source = JSON.parse(await readFile(input, 'utf8')) as EnglandValueSet;
  const valueSet = practiceSettingValueSet(source, version, date);
  await writeFile(OUTPUT, `${JSON.stringify(valueSet, null, 2)}\n`);
  const count = (valueSet.compose as { include: { concept: unknown[] }[] }).include[0]?.concept.length;
  console.log(`wrote ${OUTPUT}: ${count} concepts`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
