/**
 * `nir audit export`: an organisation's share of the audit trail (R8) as NDJSON, read from the
 * database directly with the audit API's visibility rule — the events made on the
 * organisation's behalf and those involving pointers it is custodian of — in keyset chunks
 * (constant memory), with a progress bar on a terminal. `--all` exports everything (the
 * registry operator).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { isOdsCodeShape } from '@nir/core';
import { AUDIT_CHUNK_SIZE, type AuditQuery, AuditStore } from '@nir/store';
import { Presets, SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { println, processOutput } from '../output.ts';

/** What `nir audit export` is asked for. */
export interface AuditExportOptions {
  /** ODS code of the organisation whose share is exported. */
  org?: string | undefined;
  /** Every event, whoever may see it (the operator). */
  all?: boolean | undefined;
  /** Events recorded at or after (ISO instant). */
  since?: string | undefined;
  /** Events recorded before (ISO instant; default now). */
  until?: string | undefined;
  out: string;
  /** Show the progress bar (default: when stderr is a terminal). */
  progress?: boolean | undefined;
}

/** What an export wrote. */
export interface AuditExportReport {
  file: string;
  events: number;
  query: AuditQuery;
}

function instant(value: string): string {
  if (!/T.*(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be an ISO 8601 instant, e.g. 2026-11-01T00:00:00Z');
  }
  return new Date(value).toISOString();
}

function odsCode(value: string): string {
  if (!isOdsCodeShape(value)) throw new InvalidArgumentError('must be an ODS code, e.g. RR8');
  return value;
}

/** Writes the matching events to `options.out`, one AuditEvent per line; returns what it wrote. */
export async function exportAudit(ctx: CliContext, options: AuditExportOptions): Promise<AuditExportReport> {
  if (!options.org && !options.all) throw new CliError('Give --org <ODS code> (or --all for every event)');
  if (options.org && options.all) throw new CliError('Give either --org or --all, not both');
  const query: AuditQuery = {
    ...(options.org ? { visibleTo: options.org } : {}),
    ...(options.since ? { from: options.since } : {}),
    to: options.until ?? new Date().toISOString(),
  };
  return ctx.stores.withStore(async (store) => {
    const audit = new AuditStore(store.db);
    const total = await audit.count(query);
    const showBar = options.progress ?? (ctx.output === processOutput && process.stderr.isTTY === true);
    const bar = showBar
      ? new SingleBar(
          { format: 'Exporting audit |{bar}| {percentage}% | {value}/{total} events | ETA {eta}s' },
          Presets.shades_classic,
        )
      : undefined;
    bar?.start(total, 0);
    const file = createWriteStream(options.out, { encoding: 'utf8' });
    const failed = new Promise<never>((_resolve, reject) => file.once('error', reject));
    failed.catch(() => undefined);
    let events = 0;
    try {
      for await (const chunk of audit.chunks(query, AUDIT_CHUNK_SIZE)) {
        const ok = file.write(chunk.map((row) => `${row.json}\n`).join(''));
        events += chunk.length;
        if (bar && events > bar.getTotal()) bar.setTotal(events);
        bar?.update(events);
        if (!ok) await Promise.race([once(file, 'drain'), failed]);
      }
      file.end();
      await Promise.race([once(file, 'finish'), failed]);
    } catch (error) {
      file.destroy();
      throw new CliError(`Cannot write ${options.out}: ${(error as Error).message}`, 1, { cause: error });
    } finally {
      bar?.stop();
    }
    const whose = options.org ? `visible to ${options.org}` : 'in total';
    println(ctx.output, `Exported ${events} AuditEvent(s) ${whose} to ${options.out}`);
    return { file: options.out, events, query };
  });
}

/** Adds `nir audit ...`. */
export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the audit trail');
  audit
    .command('export')
    .description(
      "export an organisation's share of the audit trail as NDJSON: events made on its behalf and on pointers it is custodian of",
    )
    .option('--org <ods>', 'the organisation whose share is exported', odsCode)
    .option('--all', 'every event, whoever may see it (registry operator)')
    .option('--since <instant>', 'events recorded at or after this instant', instant)
    .option('--until <instant>', 'events recorded before this instant (default: now)', instant)
    .requiredOption('--out <file>', 'the NDJSON file to write')
    .option('--no-progress', 'no progress bar')
    .action(async (options: AuditExportOptions & { progress: boolean }) => {
      await exportAudit(ctx, { ...options, progress: options.progress === false ? false : undefined });
    });
}
