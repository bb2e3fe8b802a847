/**
 * Helpers shared by the `nir catalogue` commands: catalogue access, JSON file reading, issue
 * building, option parsing and table cell formatting.
 */
import { readFile } from 'node:fs/promises';
import type { IssueSpec } from '@nir/core';
import { CatalogueRepository, type WriteResult } from '@nir/store';
import type { CliContext } from '../../context.ts';
import { CliError } from '../../errors.ts';

/** The options of a command that can print JSON instead of a table. */
export type JsonFlag = { json?: boolean };

/** Splits a comma-separated option value (`A,B, C`) into its items. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Reads and parses a JSON file; `what` names the file in the error messages. */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read the ${what} ${file}: ${(error as Error).message}`, 1, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`The ${what} ${file} is not valid JSON: ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
}

/** A malformed-input issue at `expression`. */
export function problem(expression: string, diagnostics: string): IssueSpec {
  return { code: 'MESSAGE_NOT_WELL_FORMED', expression, diagnostics: `${expression}: ${diagnostics}` };
}

/** `Created` or `Updated`, as a write turned out. */
export function writeVerb(result: WriteResult<unknown>): string {
  return result.created ? 'Created' : 'Updated';
}

/** An ISO timestamp as a table shows it (`2024-01-02 03:04:05Z`). */
export function time(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A flag as a table shows it. */
export function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** A list as a table shows it (`-` when empty). */
export function list(values: readonly string[]): string {
  return values.length === 0 ? '-' : values.join(',');
}

/** Runs `work` on the catalogue of the context's database. */
export function withCatalogue<T>(
  ctx: CliContext,
  work: (catalogue: CatalogueRepository) => Promise<T>,
): Promise<T> {
  return ctx.stores.withStore((store) => work(new CatalogueRepository(store.db)));
}
