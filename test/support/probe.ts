/**
 * A probe API module for end-to-end tests of the request guard: it mounts a route behind the
 * real guard and echoes the resolved principal, and a route that fails unexpectedly.
 */
import type { Interaction, Role } from '@nir/core';
import type { ApiModule, Principal } from '@nir/server';

/** Mounts `GET /$probe-<interaction>` behind the guard for `role`, echoing the principal. */
export function probeModule(role: Role, interactions: Interaction[], clinical = true): ApiModule {
  return ({ router, guard }) => {
    for (const interaction of interactions) {
      router.get(`/$probe-${interaction}`, guard({ role, interaction, clinical }), (_req, res) => {
        const principal = res.locals.principal as Principal;
        res.json({
          clientId: principal.clientId,
          odsCode: principal.odsCode,
          user: principal.endUser,
          interaction,
        });
      });
    }
    router.get('/$boom', () => {
      throw new Error('SELECT secret FROM internal_table WHERE password = 42');
    });
  };
}
