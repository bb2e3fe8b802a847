/** A free loopback port, for servers started by tests and measurement scripts (@nir/topology's). */
export { freePort } from '@nir/topology';
