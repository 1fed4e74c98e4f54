#!/usr/bin/env node
// First: sizes libuv's thread pool before anything starts it.
import '../runtime/node/threadpool.js';
import { CommanderError } from 'commander';
import { buildProgram, ExitCode } from './program.js';
import { registerUp } from './commands/up.js';
import { registerCrush } from './commands/crush.js';
import { registerFs } from './commands/fs.js';
import { registerStatus } from './commands/status.js';
import { registerAdmin } from './commands/admin.js';
import { registerNode } from './commands/node.js';
import { registerTrace } from './commands/trace.js';
import { cephArgv, registerCeph } from './commands/ceph.js';
import { registerZk } from './commands/zk.js';
import { registerRados } from './commands/rados.js';

const program = buildProgram([registerUp, registerNode, registerStatus, registerFs, registerAdmin, registerTrace, registerCrush, registerCeph, registerRados, registerZk]);

try {
  await program.parseAsync(cephArgv(process.argv));
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else {
    console.error(`troupe: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = ExitCode.failure;
  }
}
