import { describe, expect, it } from 'vitest';
import { outcomeText } from './format.js';

describe('outcomeText', () => {
  it('says who ended a completed or rejected call', () => {
    expect(outcomeText('completed', 'agent')).toBe('The call was completed by the agent');
    expect(outcomeText('rejected', 'supervisor')).toBe('The call was rejected before it connected by a supervisor');
  });
  it('does not repeat who when the reason already says it', () => {
    expect(outcomeText('caller-hung-up', 'caller')).toBe('The caller hung up before being connected');
    expect(outcomeText('missed', 'system')).toBe('Nobody answered in time');
    expect(outcomeText('completed', null)).toBe('The call was completed');
  });
});
