// Lint: typescript-eslint's recommended rules, plus the determinism rule of DESIGN.md §3:
// actor, storage, mailbox and actor-facing runtime code gets time, timers, randomness, disk and
// network from the runtime context, so the simulator controls them. Only `node/` folders (the real
// implementations) are exempt.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nondeterministicGlobals = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask'].map(
  (name) => ({ name, message: 'Use ctx.timers (runtime context) so the simulator controls time.' }),
);

const deterministic = {
  'no-restricted-globals': ['error', ...nondeterministicGlobals, { name: 'performance', message: 'Use ctx.clock.' }],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'Use ctx.clock.now() so the simulator controls time.' },
    { object: 'Math', property: 'random', message: 'Use ctx.random so runs replay from a seed.' },
    { object: 'performance', property: 'now', message: 'Use ctx.clock.now().' },
    { object: 'process', property: 'hrtime', message: 'Use ctx.clock.now().' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use ctx.clock.now() so the simulator controls time.' },
  ],
  'no-restricted-imports': [
    'error',
    {
      paths: ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'worker_threads', 'node:worker_threads', 'timers', 'node:timers', 'timers/promises', 'node:timers/promises'].map((name) => ({
        name,
        message: 'Host I/O, threads and timers come from the runtime context; real implementations live in node/ folders.',
      })),
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**', 'troupe-data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly', Buffer: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', AbortController: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', clearImmediate: 'readonly', queueMicrotask: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/actors/**/*.ts', 'src/storage/**/*.ts', 'src/mailbox/**/*.ts', 'src/runtime/**/*.ts'],
    ignores: ['src/**/node/**'],
    rules: deterministic,
  },
);
