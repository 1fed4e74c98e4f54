import { Command } from 'commander';

/**
 * The `troupe` command. Each command group lives in `cli/commands/<group>.ts` and registers
 * itself here; the CLI stays thin: it parses, then calls library code.
 */
export type Register = (program: Command) => void;

/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  unavailable: 3,
} as const;

export function buildProgram(registrations: readonly Register[]): Command {
  const program = new Command('troupe')
    .description('Troupe: an actor runtime and the GFS/Ceph/ZooKeeper storage systems built on it')
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrations) register(program);
  return program;
}
