/**
 * The README's shell blocks as the README test runs them, and a user's PATH for tests that run
 * commands the way a user types them.
 */
import path from 'node:path';

/** One shell block of the README. */
export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  script: string;
  skip?: string;
}

/** The ```sh blocks of a Markdown text, dedented, with their skip reasons. */
export function shellBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```sh\s*$/.exec(lines[i] ?? '');
    if (!fence) continue;
    const indent = fence[1]?.length ?? 0;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''))
      body.push((lines[j++] ?? '').slice(indent));
    const skip = /<!-- readme-test: skip \((.+)\) -->/.exec(lines[i - 1] ?? '')?.[1];
    blocks.push({ line: i + 1, script: body.join('\n'), ...(skip ? { skip } : {}) });
    i = j;
  }
  return blocks;
}

/** A user's PATH: without the node_modules/.bin folders of the package script running vitest. */
export const USER_PATH = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => !dir.includes(`${path.sep}node_modules${path.sep}`))
  .join(path.delimiter);
