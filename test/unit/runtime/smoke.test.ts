import { describe, expect, it } from 'vitest';
import { ActorSystem } from '../../../src/runtime/system.js';

describe('smoke', () => {
  it('tell/ask', async () => {
    const sys = new ActorSystem({ node: 'n1' });
    let count = 0;
    const ref = sys.spawn<{ type: 'inc' } | { type: 'get' }>(() => ({
      receive(m) {
        if (m.type === 'inc') count++;
        else return count;
      },
    }));
    for (let i = 0; i < 10; i++) sys.tell(ref, { type: 'inc' });
    expect(await sys.ask(ref, { type: 'get' })).toBe(10);
    await sys.shutdown();
  });
});
