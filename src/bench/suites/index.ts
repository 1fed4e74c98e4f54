import type { BenchSuite } from '../harness.js';

/** Every bench suite, by name. Each module is imported only when its suite runs. */
export const suites: Record<string, () => Promise<BenchSuite>> = {
  runtime: async () => (await import('./runtime.js')).default,
  transport: async () => (await import('./transport.js')).default,
  storage: async () => (await import('./storage.js')).default,
  crush: async () => (await import('./crush.js')).default,
  'gfs-master': async () => (await import('./gfs-master.js')).default,
  'gfs-data': async () => (await import('./gfs-data.js')).default,
  sim: async () => (await import('./sim.js')).default,
  'rados-mon': async () => (await import('./rados-mon.js')).default,
  rados: async () => (await import('./rados.js')).default,
  coord: async () => (await import('./coord.js')).default,
};
