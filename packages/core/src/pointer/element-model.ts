/**
 * The closed content model of a profile, read from its StructureDefinition snapshot (R13): the
 * published profile is what the registry enforces. An element is allowed when the snapshot
 * lists its path with `max` other than "0"; anything else, at any depth, is refused (R1).
 */
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/** What the snapshot says of one element path. */
export interface ElementRule {
  /** Snapshot path, e.g. `DocumentReference.content.attachment.url` (choices as `value[x]`). */
  path: string;
  min: number;
  /** "0", "1" … or "*". */
  max: string;
  /** True when the element is a JSON array (decided by the base definition, whatever the profile's max). */
  repeats: boolean;
  /** FHIR type codes, e.g. `string`, `Identifier`. */
  types: string[];
  /** A fixed or pattern value the element must carry, when the profile sets one. */
  fixed?: unknown;
}

/** The result of resolving a JSON property under an element. */
export interface ChildElement {
  rule: ElementRule;
  /** True when the snapshot forbids the element (`max` "0"). */
  forbidden: boolean;
}

function fixedValueOf(element: ElementDefinition): unknown {
  for (const [name, value] of Object.entries(element)) {
    if ((name.startsWith('fixed') || name.startsWith('pattern')) && value !== undefined) return value;
  }
  return undefined;
}

/** Allowed paths, cardinalities and fixed values of one profile. */
export class ElementModel {
  readonly root: string;
  readonly #rules = new Map<string, ElementRule>();
  readonly #children = new Map<string, ElementRule[]>();
  /** Resolved properties by parent path, then JSON name: every walk asks the same few. */
  readonly #resolved = new Map<string, Map<string, ChildElement | null>>();

  constructor(root: string, rules: ElementRule[]) {
    this.root = root;
    for (const rule of rules) {
      this.#rules.set(rule.path, rule);
      const parent = rule.path.slice(0, rule.path.lastIndexOf('.'));
      if (rule.path.includes('.')) this.#children.set(parent, [...(this.#children.get(parent) ?? []), rule]);
    }
  }

  /** Reads the snapshot of a StructureDefinition. */
  static fromStructureDefinition(definition: StructureDefinition): ElementModel {
    const elements = definition.snapshot?.element;
    if (!definition.type || !elements?.length) {
      throw new Error(`StructureDefinition ${definition.url} has no snapshot`);
    }
    const rules = elements.map((element): ElementRule => {
      const rule: ElementRule = {
        path: element.path as string,
        min: element.min ?? 0,
        max: element.max ?? '*',
        repeats: (element.base?.max ?? element.max ?? '*') !== '1',
        types: (element.type ?? []).map((type) => type.code as string),
      };
      const fixed = fixedValueOf(element);
      if (fixed !== undefined) rule.fixed = fixed;
      return rule;
    });
    return new ElementModel(definition.type, rules);
  }

  /** The rule for a snapshot path. */
  rule(path: string): ElementRule | undefined {
    return this.#rules.get(path);
  }

  /** Resolves the JSON property `name` of the element at `parentPath` (choice types included). */
  child(parentPath: string, name: string): ChildElement | undefined {
    let byName = this.#resolved.get(parentPath);
    if (!byName) {
      byName = new Map();
      this.#resolved.set(parentPath, byName);
    }
    let resolved = byName.get(name);
    if (resolved === undefined) {
      const rule = this.#rules.get(`${parentPath}.${name}`) ?? this.#choice(parentPath, name);
      resolved = rule ? { rule, forbidden: rule.max === '0' } : null;
      // Only names the profile knows are kept: unknown ones are refused, and must not grow the map.
      if (resolved) byName.set(name, resolved);
    }
    return resolved ?? undefined;
  }

  #choice(parentPath: string, name: string): ElementRule | undefined {
    for (const rule of this.#children.get(parentPath) ?? []) {
      const last = rule.path.slice(rule.path.lastIndexOf('.') + 1);
      if (!last.endsWith('[x]')) continue;
      const prefix = last.slice(0, -3);
      const type = name.slice(prefix.length);
      if (name.startsWith(prefix) && rule.types.some((t) => t.toLowerCase() === type.toLowerCase()))
        return rule;
    }
    return undefined;
  }

  /** The elements the snapshot lists directly under `path`. */
  children(path: string): ElementRule[] {
    return this.#children.get(path) ?? [];
  }

  /** True when the element at `path` has children in the snapshot (a complex type we constrain). */
  isComplex(path: string): boolean {
    return (this.#children.get(path)?.length ?? 0) > 0;
  }
}
