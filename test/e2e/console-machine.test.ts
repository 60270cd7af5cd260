import { describe, expect, it } from 'vitest';
import type { MachineGraph } from '../../src/shared/rest-types.js';
import { META_OFFER } from '../helpers.js';
import { asSupervisor, incomingCard as card, shot, waitAttr } from './console-helpers.js';
import { useConsoleRig } from './console-rig.js';

// The supervisor's call drawer draws the call machine offline, from the definition the service runs
// (GET /api/machine): every state, where the call is now, and the path it took, in a real Chromium.
describe('the call machine in the supervisor’s call drawer', () => {
  const rig = useConsoleRig({ viewport: { width: 1280, height: 900 }, eachTest: true });

  it('shows every state of the machine, highlights where the call is and marks the path it took', async () => {
    const machine = await asSupervisor<MachineGraph>(rig.stack.url, '/api/machine');
    expect(machine.states.length).toBeGreaterThanOrEqual(6);
    const [alice, sam] = await Promise.all([rig.signIn('alice'), rig.signIn('sam')]);
    await sam.getByTestId('supervisor-view').waitFor();

    // A call that rings (Meta's sample offer: nobody answers at its address) and is offered to alice.
    const { call } = await rig.stack.sim.placeCall({ sdp: META_OFFER, name: 'Ines' });
    await card(alice, call.callId).waitFor({ timeout: 10_000 });
    const row = sam.locator(`[data-testid="supervisor-calls"] [data-call-id="${call.callId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    const diagram = sam.getByTestId('call-drawer').getByTestId('machine-diagram');
    await diagram.waitFor({ timeout: 10_000 });

    // Every state the service defines is drawn, once.
    const drawn = await diagram
      .locator('[data-state]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(drawn.sort()).toEqual(machine.states.map((s) => s.name).sort());
    // And every transition between two states.
    expect(await diagram.locator('path[data-from]').count()).toBe(machine.edges.length);

    // Now: offered to an agent, reached from ringing.
    await waitAttr(diagram.locator('[data-current="true"]'), 'data-state', (v) => v === 'agent-offered');
    expect(await diagram.locator('[data-current="true"]').count()).toBe(1);
    await waitAttr(
      diagram.locator('path[data-from="ringing"][data-to="agent-offered"]'),
      'data-taken',
      (v) => v === '1',
    );
    expect(await diagram.locator('[data-state="ringing"]').getAttribute('data-visited')).toBe('true');
    expect(await diagram.locator('[data-state="live"]').getAttribute('data-visited')).toBeNull();
    // The call was created in the machine's initial state, which passed it on to ringing at once: step 0.
    const initial = machine.initial;
    if (initial !== 'ringing') {
      const entry = diagram.locator(`path[data-from="${initial}"][data-to="ringing"]`);
      expect(await entry.getAttribute('data-taken')).toBe('0');
      expect(await diagram.locator(`[data-state="${initial}"]`).getAttribute('data-visited')).toBe('true');
    }
    expect(await diagram.locator('path[data-taken]').count()).toBe(initial === 'ringing' ? 1 : 2);

    // The highlight is what the eye sees: the current box is drawn unlike one the call never visited.
    const stroke = (state: string) =>
      diagram
        .locator(`[data-state="${state}"] rect`)
        .evaluate((el) => `${getComputedStyle(el).stroke} ${getComputedStyle(el).strokeWidth}`);
    const [current, untouched, visited] = await Promise.all([
      stroke('agent-offered'),
      stroke('live'),
      stroke('ringing'),
    ]);
    expect(current).not.toBe(untouched);
    expect(visited).not.toBe(untouched);
    await diagram.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot(sam, 'supervisor-call-machine', { doc: true });

    // The supervisor ends the call: the picture follows to ended, one step further along the path.
    await sam.getByTestId('cancel-call').click();
    await waitAttr(diagram.locator('[data-current="true"]'), 'data-state', (v) => v === 'ended', 10_000);
    await waitAttr(diagram.locator('path[data-from="agent-offered"][data-to="ended"]'), 'data-taken', (v) => v === '2');
    expect(await diagram.locator('[data-state="agent-offered"]').getAttribute('data-visited')).toBe('true');
  });
});
