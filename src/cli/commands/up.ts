import { InvalidArgumentError, type Command } from 'commander';
import { ActorSystem } from '../../runtime/system.js';
import type { ActorRef } from '../../runtime/ref.js';
import type { Register } from '../program.js';

/**
 * `troupe up`: until the storage cluster roles exist, this starts a one-node runtime demo — a
 * supervised worker pool fed by a producer, with a reporter printing throughput — and shuts down
 * cleanly on Ctrl-C.
 */
export const registerUp: Register = (program: Command) => {
  program
    .command('up')
    .description('start a one-node Troupe runtime on this machine (a demo until the cluster roles land)')
    .option('--workers <n>', 'worker actors in the demo pool', (v) => parsePositiveInt(v, '--workers'), 4)
    .option('--for <ms>', 'stop after this many milliseconds (default: until Ctrl-C)', (v) => parsePositiveInt(v, '--for'))
    .action(async (opts: { workers: number; for?: number }) => {
      await runDemo(opts.workers, opts.for);
    });
};

function parsePositiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} takes a positive integer, got '${v}'`);
  return n;
}

type Job = { readonly type: 'job'; readonly n: number };
type Stats = { readonly type: 'stats' };

async function runDemo(workers: number, forMs: number | undefined): Promise<void> {
  const system = new ActorSystem({ node: 'local' });
  let handled = 0;
  const pool: ActorRef<Job>[] = [];
  for (let i = 0; i < workers; i++) {
    pool.push(
      system.spawn<Job>(() => ({
        receive() {
          handled++;
        },
      }), { name: `worker-${i}` }),
    );
  }
  const producer = system.spawn<{ type: 'tick' } | Stats>((ctx) => {
    let n = 0;
    ctx.timers.repeat('tick', 10, { type: 'tick' });
    return {
      receive(m) {
        if (m.type === 'stats') return { sent: n };
        for (let k = 0; k < 100; k++) ctx.tell(pool[n % pool.length] as ActorRef<Job>, { type: 'job', n: n++ });
        return undefined;
      },
    };
  }, { name: 'producer' });

  // Listen for Ctrl-C before saying how to stop, so the first Ctrl-C is always a clean shutdown.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (forMs !== undefined) setTimeout(stop, forMs);
  });
  process.stdout.write(
    [
      `troupe: runtime up on node '${system.node}' (pid ${process.pid})`,
      `  actors: producer, ${workers} workers (${system.actors().length} in all)`,
      '  the GFS/RADOS cluster roles are not part of this build yet; this is the runtime demo',
      '  Ctrl-C to stop',
      '',
    ].join('\n'),
  );
  let last = 0;
  const report = setInterval(() => {
    void system.ask<{ sent: number }>(producer, { type: 'stats' }).then(({ sent }) => {
      process.stdout.write(`  handled ${handled} messages (${handled - last}/s), sent ${sent}, dead letters ${system.deadLetterCount}\n`);
      last = handled;
    });
  }, 1000);

  await stopped;
  clearInterval(report);
  await system.shutdown();
  process.stdout.write(`troupe: stopped cleanly after ${handled} messages\n`);
}
