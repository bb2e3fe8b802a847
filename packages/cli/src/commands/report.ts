/**
 * `nir report --month 2026-11 [--org RR8] --out review.html`: the monthly service review (R17)
 * as one self-contained HTML file (inline SVG, no network), from the audit rollup on the
 * database directly: an organisation's (its own requests and accesses to its pointers) or,
 * without `--org`, the whole registry's.
 */
import { writeFile } from 'node:fs/promises';
import { isOdsCodeShape } from '@nir/core';
import { loadServiceReview, parseMonth, renderServiceReview } from '@nir/server';
import { AuditRollupStore } from '@nir/store';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { println } from '../output.ts';

/** What `nir report` is asked for. */
export interface ReportOptions {
  month: string;
  org?: string | undefined;
  out: string;
}

/** Writes the review to `options.out`; returns its request count. */
export async function writeReport(
  ctx: CliContext,
  options: ReportOptions,
): Promise<{ file: string; requests: number }> {
  return ctx.stores.withStore(async (store) => {
    const review = await loadServiceReview(new AuditRollupStore(store.db), options.month, options.org);
    try {
      await writeFile(options.out, renderServiceReview(review), 'utf8');
    } catch (error) {
      throw new CliError(`Cannot write ${options.out}: ${(error as Error).message}`, 1, { cause: error });
    }
    const whose = options.org ? `organisation ${options.org}` : 'the whole registry';
    println(
      ctx.output,
      `Wrote the ${options.month} service review of ${whose} (${review.totals.events} requests) to ${options.out}`,
    );
    return { file: options.out, requests: review.totals.events };
  });
}

/** Adds `nir report`. */
export function registerReportCommand(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('the monthly service review as one self-contained HTML file, from the audit rollup')
    .requiredOption('--month <YYYY-MM>', 'the month reviewed, e.g. 2026-11', (value: string) => {
      const month = parseMonth(value);
      if (!month) throw new InvalidArgumentError('must be a month, e.g. 2026-11');
      return month;
    })
    .option('--org <ods>', "an organisation's review (default: the whole registry)", (value: string) => {
      if (!isOdsCodeShape(value)) throw new InvalidArgumentError('must be an ODS code, e.g. RR8');
      return value;
    })
    .requiredOption('--out <file>', 'the HTML file to write')
    .action(async (options: ReportOptions) => {
      await writeReport(ctx, options);
    });
}
