/**
 * The examples and the environment variables shown under each command's `--help`. Kept in one
 * table so a test can hold every command to it; added to the commands after they are built.
 */
import type { Command } from 'commander';

/** The variables every command that opens the database reads (the same as the server). */
const DATABASE_ENV = [
  'DATABASE_URL       PostgreSQL URL; unset: the embedded database (PGlite). Several hosts in',
  '                   libpq form: postgres://u@h1:5433,h2:5434/nir?target_session_attrs=read-write',
  'NIR_DATA_DIR       embedded database directory (default .data/pglite; one process at a time)',
  'NIR_DB_POOL_SIZE   PostgreSQL connection pool size (default 4)',
  'NIR_DEBUG          set to print stack traces on failure',
];

const TOKEN_ENV = [
  'NIR_PUBLIC_URL     the registry origin when --url is not given (default http://127.0.0.1:8080)',
  'NIR_DEBUG          set to print stack traces on failure',
];

/** The kit as a client reads no database: only where the registry is. */
const REGISTRY_CLIENT_ENV = [
  'NIR_PUBLIC_URL     the registry origin when --registry is not given (default http://127.0.0.1:8080)',
  'NIR_DEBUG          set to print stack traces on failure',
];

/** Examples per command path (the words after `nir`). Every leaf command has an entry. */
export const COMMAND_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  token: [
    'pnpm -s nir token --client demo-consumer',
    'TOKEN=$(pnpm -s nir token --client demo-provider-a --purpose TREAT)',
    'pnpm -s nir token --client demo-admin --scope admin/catalogue --url http://127.0.0.1:8081',
    'pnpm -s nir token --client my-pacs --key my-pacs.private.jwk.json --org RR8 --json',
  ],
  'catalogue org list': ['pnpm nir catalogue org list', 'pnpm nir catalogue org list --json'],
  'catalogue org put': ['pnpm nir catalogue org put RX898 --name "Example Hospitals NHS Trust"'],
  'catalogue org suspend': ['pnpm nir catalogue org suspend RAE'],
  'catalogue org terminate': ['pnpm nir catalogue org terminate RAE'],
  'catalogue org activate': ['pnpm nir catalogue org activate RAE'],
  'catalogue client list': ['pnpm nir catalogue client list --json'],
  'catalogue client put': [
    'pnpm nir catalogue client put my-pacs --name "My PACS" --jwks my-pacs.jwks.json --org RR8 --roles producer',
    'pnpm nir catalogue client put my-admin --name "Catalogue admin" --jwks admin.jwks.json --admin',
  ],
  'catalogue client delete': ['pnpm nir catalogue client delete my-pacs'],
  'catalogue grant list': ['pnpm nir catalogue grant list --org RR8'],
  'catalogue grant put': [
    'pnpm nir catalogue grant put RR8 producer --types "https://nicip.nhs.uk|MAULR" --interactions create,read,update,delete,search',
    'pnpm nir catalogue grant put RWY consumer --types "https://nicip.nhs.uk|MAULR" --interactions read,search',
  ],
  'catalogue grant delete': ['pnpm nir catalogue grant delete RWY consumer'],
  'catalogue changes': [
    'pnpm nir catalogue changes',
    'pnpm nir catalogue changes --key RR8 --limit 10 --json',
  ],
  'catalogue import': [
    'pnpm nir catalogue import demo/catalogue.json',
    'pnpm nir catalogue import catalogue.json',
  ],
  'keys rotate': ['pnpm nir keys rotate'],
  'keys list': ['pnpm nir keys list --json'],
  migrate: ['DATABASE_URL=postgres://nir@db.example/nir pnpm nir migrate'],
  'demo seed': ['pnpm nir demo seed'],
  'client-key': ['pnpm nir client-key my-admin', 'pnpm nir client-key my-pacs --alg RS384 --dir keys'],
  'conformance plan': [
    'pnpm nir conformance plan --plan producer',
    'pnpm nir conformance plan --plan consumer --json',
  ],
  'conformance verify': [
    'pnpm nir conformance verify --plan producer --client my-pacs --since 2026-12-02T09:00:00Z',
    'pnpm nir conformance verify --plan consumer --client my-viewer --out-dir reports',
  ],
  'conformance run': [
    'pnpm nir conformance run --client demo-provider-a --key demo/keys/demo-provider-a.private.jwk.json --ods RR8 --role producer',
    'pnpm nir conformance run --registry https://nir.example --client my-viewer --key my-viewer.private.jwk.json --ods RWY --role consumer',
  ],
  'conformance reset': ['NIR_SANDBOX=true pnpm nir conformance reset --client my-pacs'],
  'conformance verify-report': [
    'pnpm nir conformance verify-report conformance-reports/producer-my-pacs.json',
    'pnpm nir conformance verify-report report.json --jwks https://nir.example/.well-known/jwks.json',
  ],
  report: [
    'pnpm nir report --month 2026-11 --out review.html',
    'pnpm nir report --month 2026-11 --org RR8 --out rr8-review.html',
  ],
  'audit export': [
    'pnpm nir audit export --org RR8 --since 2026-11-01T00:00:00Z --out rr8.ndjson',
    'pnpm nir audit export --all --since 2026-11-01T00:00:00Z --until 2026-12-01T00:00:00Z --out all.ndjson',
  ],
};

/** The full path of a command below the program, e.g. `catalogue org put`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Every command with no subcommands, below `program`. */
export function leafCommands(program: Command): Command[] {
  return program.commands.flatMap((c) => (c.commands.length === 0 ? [c] : leafCommands(c)));
}

/** Adds the examples and the environment variables to the help of every leaf command. */
export function addHelpTexts(program: Command): void {
  for (const command of leafCommands(program)) {
    const name = commandPath(command);
    const examples = COMMAND_EXAMPLES[name] ?? [];
    const env =
      name === 'token'
        ? TOKEN_ENV
        : name === 'client-key'
          ? ['NIR_DEBUG          set to print stack traces on failure']
          : name === 'conformance run' || name === 'conformance verify-report'
            ? REGISTRY_CLIENT_ENV
            : name === 'conformance reset'
              ? [...DATABASE_ENV, 'NIR_SANDBOX        must be true: only a sandbox database may be reset']
              : DATABASE_ENV;
    const lines = [
      '',
      'Examples:',
      ...examples.map((e) => `  ${e}`),
      '',
      'Environment:',
      ...env.map((e) => `  ${e}`),
    ];
    command.addHelpText('after', lines.join('\n'));
  }
  program.addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  pnpm -s nir token --client demo-consumer',
      '  pnpm nir catalogue org list',
      '  pnpm nir <command> --help',
      '',
      'Environment: DATABASE_URL, NIR_DATA_DIR, NIR_DB_POOL_SIZE (commands on the database, as the server),',
      'NIR_PUBLIC_URL (token), NIR_DEBUG (stack traces). Use `pnpm -s` to keep pnpm from printing its own lines.',
    ].join('\n'),
  );
}
