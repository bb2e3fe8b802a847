/**
 * The routes an Express application really mounts, read from its router stack: what the API
 * reference test holds the OpenAPI documents to (every mounted route documented, every
 * documented route mounted).
 */
import type { Express } from 'express';

/** One mounted route: an upper-case method and an OpenAPI-style path (`/x/{id}`). */
export interface MountedRoute {
  method: string;
  path: string;
}

interface LayerLike {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

/** An Express path (`/DocumentReference/:id`) in OpenAPI's form (`/DocumentReference/{id}`). */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function walk(stack: LayerLike[], prefix: string, out: MountedRoute[]): void {
  for (const layer of stack) {
    if (layer.route) {
      // Without a trailing slash: `/docs/` is served as `/docs`, a FHIR base's `/` as the base.
      const path = openApiPath(`${prefix}${String(layer.route.path)}`.replace(/(.)\/$/, '$1'));
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') out.push({ method: method.toUpperCase(), path });
      }
    } else if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      walk(layer.handle.stack, `${prefix}${mount}`, out);
    }
  }
}

/** Every route `app` mounts (method-specific handlers; catch-all 405 handlers are not routes). */
export function mountedRoutes(app: Express): MountedRoute[] {
  const router = (app as unknown as { router: { stack: LayerLike[] } }).router;
  const out: MountedRoute[] = [];
  walk(router.stack, '', out);
  return out;
}
