/**
 * `/docs`: the interactive API reference. Swagger UI served from the `swagger-ui-dist` npm
 * package (no CDN), over the OpenAPI documents at `/docs/openapi/<api>.json`, with the worked
 * "try it" flow for the demo clients above it. Not audited: no data, no identity.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Router } from 'express';
import { methodNotAllowed } from '../http/errors.ts';
import { API_NAMES, type ApiName, type OpenApiObject } from './common.ts';

const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The files of swagger-ui-dist the page loads. */
const ASSETS = [
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'swagger-ui-standalone-preset.js',
  'favicon-32x32.png',
];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** How to get a token for each API's demo client, as the page shows it. */
export interface TryIt {
  client: string;
  organisation: string;
  scope?: string;
}

function page(
  publicUrl: string,
  documents: Record<ApiName, OpenApiObject>,
  tryIt: Record<ApiName, TryIt>,
): string {
  const title = (api: ApiName) => String((documents[api].info as { title: string }).title);
  const urls = API_NAMES.map((api) => ({ url: `/docs/openapi/${api}.json`, name: title(api) }));
  const rows = API_NAMES.map((api) => {
    const { client, organisation, scope } = tryIt[api];
    const command = `TOKEN=$(pnpm -s nir token --client ${client} --url ${publicUrl}${scope ? ` --scope ${scope}` : ''})`;
    return `<tr data-api="${api}"><td><a href="/docs/openapi/${api}.json">${escapeHtml(title(api))}</a></td><td><code>${escapeHtml(command)}</code></td><td><code>${organisation}</code></td></tr>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>National Imaging Registry — API reference</title>
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<style>
  body { margin: 0; font-family: sans-serif; }
  #try-it { padding: 1rem 2rem; background: #f4f7fb; border-bottom: 1px solid #d0d7e2; }
  #try-it table { border-collapse: collapse; } #try-it td, #try-it th { padding: .25rem .75rem; text-align: left; }
  #try-it code { font-size: .85rem; }
</style>
</head>
<body>
<section id="try-it">
<h1>National Imaging Registry — API reference</h1>
<p>Five APIs, each an OpenAPI 3.1 document generated from what the server itself uses. Pick one in the bar below.</p>
<h2>Try it with the demo clients (demo mode)</h2>
<ol>
  <li>In a terminal in the repository, get a token for the API's demo client (second column) and print it: <code>echo $TOKEN</code>.</li>
  <li>Press <b>Authorize</b>, paste the token, <b>Authorize</b>, <b>Close</b>.</li>
  <li>Open an operation, <b>Try it out</b>: <code>X-Request-Id</code> and <code>NHSD-End-User-Organisation-ODS</code> are filled in with the demo organisation (third column); <b>Execute</b>.</li>
  <li>For example, the consumer's <code>GET /DocumentReference</code> with <code>subject:identifier</code> already set finds the two demo pointers of NHS number 9000000009.</li>
</ol>
<table>
<thead><tr><th>API (OpenAPI document)</th><th>Token for its demo client</th><th>Organisation</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>Tokens last five minutes. Outside demo mode the demo keys are refused; register your own client (README, "The first admin client").</p>
</section>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>
  window.ui = SwaggerUIBundle({
    urls: ${JSON.stringify(urls)},
    'urls.primaryName': ${JSON.stringify(title('consumer'))},
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
</script>
</body>
</html>
`;
}

/** The `/docs` router: the page, the OpenAPI documents and Swagger UI's files. */
export function apiReferenceRouter(
  publicUrl: string,
  documents: Record<ApiName, OpenApiObject>,
  tryIt: Record<ApiName, TryIt>,
): Router {
  const router = express.Router();
  const html = page(publicUrl, documents, tryIt);
  const bodies = Object.fromEntries(API_NAMES.map((api) => [api, JSON.stringify(documents[api], null, 2)]));
  router
    .route('/')
    .get((_req, res) => {
      res.type('html').send(html);
    })
    .all(methodNotAllowed(['GET']));
  router
    .route('/openapi/:api.json')
    .get((req, res, next) => {
      const body = bodies[String(req.params.api)];
      if (body === undefined) {
        next();
        return;
      }
      res.type('application/json').send(body);
    })
    .all(methodNotAllowed(['GET']));
  router.get('/assets/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (!ASSETS.includes(file)) {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.sendFile(file, { root: SWAGGER_UI_DIR }); // root: the .pnpm folder above is no dotfile of ours
  });
  return router;
}
