// Plain JavaScript on purpose: it must run on any Node.js, before the TypeScript sources load
// (an older Node.js fails on them with ERR_UNKNOWN_FILE_EXTENSION, which explains nothing).

/** The oldest Node.js the registry runs on: it runs the TypeScript sources by type stripping. */
export const MINIMUM_NODE = [24, 0];

/**
 * Exits with a clear message when this Node.js is older than {@link MINIMUM_NODE}.
 * @param {string} what the program being started, for the message
 * @param {string} [version] the Node.js version (default: this process's)
 * @returns {string | undefined} the message when too old (the process has then exited), for tests
 */
export function requireSupportedNode(what, version = process.versions.node) {
  const message = unsupportedNodeMessage(what, version);
  if (message) {
    process.stderr.write(`${message}\n`);
    process.exit(1);
  }
  return message;
}

/**
 * The refusal for an older Node.js, or undefined when `version` is new enough.
 * @param {string} what
 * @param {string} version
 * @returns {string | undefined}
 */
export function unsupportedNodeMessage(what, version) {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor, needMinor] = MINIMUM_NODE;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return (
    `${what} needs Node.js ${needMajor} or newer; this is Node.js ${version}.\n` +
    'Run it through pnpm (pnpm start, pnpm nir ...), which brings Node.js 24 as a dev dependency, ' +
    'or install Node.js 24 (https://nodejs.org).'
  );
}
