/** Free loopback ports for test clusters (shared with the benchmarks). */
export { freePort } from '../../bin/ports.js';
