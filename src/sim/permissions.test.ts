import { describe, expect, it } from 'vitest';
import { DAY_MS, LIMITS, SimPermissions } from './permissions.js';

describe('simulated call permissions', () => {
  const at = { now: 1_800_000_000_000 };
  const perms = () => new SimPermissions(() => at.now);

  it('a user without permission cannot be called (138006) and may be asked once a day, twice a week', () => {
    const p = perms();
    const u = p.add('4915100000001');
    expect(p.refuseCall(u)?.code).toBe(138006);
    expect(p.refuseRequest(u)).toBeUndefined();
    p.recordRequest(u);
    expect(p.refuseRequest(u)?.code).toBe(138009);
    at.now += DAY_MS + 1;
    expect(p.refuseRequest(u)).toBeUndefined();
    p.recordRequest(u);
    at.now += DAY_MS + 1;
    expect(p.refuseRequest(u)?.code).toBe(138009); // 2 in 7 days
    const view = p.view(u) as { actions: { action_name: string; can_perform_action: boolean; limits: unknown[] }[] };
    expect(view.actions[0]).toMatchObject({ action_name: 'send_call_permission_request', can_perform_action: false });
    expect(view.actions[0]!.limits[1]).toMatchObject({ time_period: 'P7D', max_allowed: 2, current_usage: 2 });
  });

  it('a connected call resets the request limits; a temporary grant expires after 7 days', () => {
    const p = perms();
    const u = p.add('4915100000002', { permission: 'temporary' });
    p.recordRequest(u);
    p.recordConnected(u);
    expect(p.refuseRequest(u)).toBeUndefined();
    expect(p.status(u)).toBe('temporary');
    at.now += LIMITS.temporaryGrantMs + 1;
    expect(p.status(u)).toBe('no_permission');
  });

  it('100 connected calls in 24 hours: the next is refused with 138012 and when it is allowed', () => {
    const p = perms();
    const u = p.add('4915100000003', { permission: 'permanent' });
    for (let i = 0; i < LIMITS.connectedCallsPer24h; i++) p.recordConnected(u);
    const refused = p.refuseCall(u);
    expect(refused?.code).toBe(138012);
    expect(refused?.details).toMatch(/next call allowed at \d+/);
    const view = p.view(u) as { actions: { limits: { limit_expiration_time?: number }[] }[] };
    expect(view.actions[1]!.limits[0]!.limit_expiration_time).toBe(Math.floor((at.now + DAY_MS) / 1000));
  });

  it('four unanswered calls in a row revoke the permission; an answered one resets the streak', () => {
    const p = perms();
    const u = p.add('4915100000004', { permission: 'permanent' });
    for (let i = 0; i < 3; i++) expect(p.recordUnanswered(u)).toBe(false);
    p.recordConnected(u);
    for (let i = 0; i < 3; i++) expect(p.recordUnanswered(u)).toBe(false);
    expect(p.recordUnanswered(u)).toBe(true);
    expect(p.status(u)).toBe('no_permission');
  });

  it('a permanent permission refuses a new request with 138017', () => {
    const p = perms();
    expect(p.refuseRequest(p.add('4915100000005', { permission: 'permanent' }))?.code).toBe(138017);
  });
});
