/** Every check the verifier implements, by id (plans name them). */
import { consumerRead, consumerSearch, pagingFollowed } from './consumer.ts';
import {
  noDeleteAndCreate,
  producerCreate,
  producerDelete,
  producerSearch,
  producerSupersede,
  producerUpdate,
  validPointers,
} from './producer.ts';
import {
  expectedRefusal,
  noBlindRetry,
  purposeOfUse,
  requestIdPresent,
  requestIdUnique,
  tokenReuse,
} from './session.ts';
import type { CheckDefinition } from './types.ts';

const ALL: CheckDefinition[] = [
  requestIdPresent,
  requestIdUnique,
  tokenReuse,
  purposeOfUse,
  expectedRefusal,
  noBlindRetry,
  producerCreate,
  producerUpdate,
  producerSupersede,
  noDeleteAndCreate,
  producerDelete,
  producerSearch,
  validPointers,
  consumerSearch,
  pagingFollowed,
  consumerRead,
];

/** The ids of the implemented checks. */
export const CHECK_IDS: readonly string[] = ALL.map((c) => c.id);
export type CheckId = string;

/** The check of `id` (throws for an unknown one: plans are checked when loaded). */
export function checkDefinition(id: CheckId): CheckDefinition {
  const found = ALL.find((c) => c.id === id);
  if (!found) throw new Error(`unknown check '${id}'`);
  return found;
}
