// Replaces the generated block of README.md between <!-- NAME:start --> and <!-- NAME:end -->
// (the performance table, the reliability figures). Returns false when the README has no such block.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function replaceReadmeBlock(name, content) {
  const readme = join(import.meta.dirname, '..', 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return false;
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${content}\n${text.slice(b)}`);
  return true;
}
