/**
 * PostgreSQL `COPY … FROM STDIN` text format (one row per line, tab-separated, `\N` for NULL)
 * for the bulk loader: the rows the API's writer would insert, encoded for `pg-copy-streams`.
 */

/** A column value as the writer's row objects hold it. */
export type CopyValue = string | number | boolean | Date | null | undefined | readonly string[];

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Escapes a field's text for COPY: backslash, tab, newline and carriage return. */
export function escapeCopy(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] ?? c);
}

/** A PostgreSQL array literal of text elements: `{"a","b"}`, each element quoted and escaped. */
export function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** One field of a COPY line. */
export function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return escapeCopy(arrayLiteral(value));
  if (typeof value === 'string') return escapeCopy(value);
  return String(value);
}

/** One COPY line (with its newline) of `row`'s values in `columns` order. */
export function copyLine(row: Readonly<Record<string, unknown>>, columns: readonly string[]): string {
  return `${columns.map((column) => copyField(row[column] as CopyValue)).join('\t')}\n`;
}
