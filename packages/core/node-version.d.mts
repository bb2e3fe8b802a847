/** The oldest Node.js the registry runs on, [major, minor]. */
export declare const MINIMUM_NODE: readonly [number, number];
/** Exits with a clear message when this Node.js is too old; returns the message otherwise undefined. */
export declare function requireSupportedNode(what: string, version?: string): string | undefined;
/** The refusal for an older Node.js, or undefined when `version` is new enough. */
export declare function unsupportedNodeMessage(what: string, version: string): string | undefined;
