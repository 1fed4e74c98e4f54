import { describe, expect, it } from 'vitest';
import { GfsClientError } from '../../../src/actors/gfs/client/client.js';
import { deliveryHint } from '../../../src/cli/commands/client-options.js';

describe('CLI: what to do after a request the runtime failed (issue #13)', () => {
  it('says a request that never reached the cluster can be run again, and one without an answer should be checked first', () => {
    const never = new GfsClientError('chunkserver_failed', 'request to master@m was not delivered', { runtimeCode: 'link_down', delivery: 'not_delivered' });
    expect(deliveryHint(never)).toMatch(/never reached the cluster \(link_down\).*safe to run the command again/);
    const unknown = new GfsClientError('chunkserver_failed', 'no reply from master@m within the timeout', { runtimeCode: 'ask_timeout', delivery: 'unknown' });
    expect(deliveryHint(unknown)).toMatch(/no answer \(ask_timeout\).*may or may not have been made/);
  });

  it('adds nothing to an error the cluster answered with', () => {
    expect(deliveryHint(new GfsClientError('not_found', '/x does not exist'))).toBeUndefined();
  });
});
