/** A stage B refusal named by the rule it breaks (the rule id is for tests and logs, not the wire). */
import type { ErrorCode, IssueSpec } from '../outcomes.ts';

/** A business-rule failure, named by the rule it breaks. */
export interface RuleFailure extends IssueSpec {
  rule: string;
}

/** A failure of `rule` at `expression`: 422 `UNPROCESSABLE_ENTITY` unless another code is given. */
export function fail(
  rule: string,
  expression: string,
  diagnostics: string,
  code: ErrorCode = 'UNPROCESSABLE_ENTITY',
): RuleFailure {
  return { rule, code, expression, diagnostics };
}
