/**
 * Where the CLI writes. Commands never call `console.log`: they write to an {@link Output}, so
 * tests capture what a user would see.
 */

/** The two streams a command writes to (raw text, newlines included). */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The process's own stdout and stderr. */
export const processOutput: Output = {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
};

/** An output that keeps what was written (tests). */
export interface CapturedOutput extends Output {
  readonly out: string;
  readonly err: string;
  clear(): void;
}

/** Creates an output that records everything written to it. */
export function captureOutput(): CapturedOutput {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    clear() {
      out = '';
      err = '';
    },
  };
}

/** Writes one line to stdout. */
export function println(output: Output, line = ''): void {
  output.stdout(`${line}\n`);
}

/** Writes one line to stderr. */
export function eprintln(output: Output, line: string): void {
  output.stderr(`${line}\n`);
}

/** Writes a value as indented JSON to stdout. */
export function printJson(output: Output, value: unknown): void {
  output.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A column of a text table: its heading and how a row shows in it. */
export interface Column<T> {
  header: string;
  value(row: T): string;
}

/** Formats rows as an aligned text table (two spaces between columns, no trailing blanks). */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => c.value(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells
    .map((line) =>
      line
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Prints rows as JSON (`--json`) or as a table, with `empty` when there are none. */
export function printRows<T>(
  output: Output,
  rows: readonly T[],
  columns: readonly Column<T>[],
  options: { json?: boolean | undefined; empty: string },
): void {
  if (options.json) {
    printJson(output, rows);
  } else if (rows.length === 0) {
    println(output, options.empty);
  } else {
    output.stdout(formatTable(rows, columns));
  }
}
