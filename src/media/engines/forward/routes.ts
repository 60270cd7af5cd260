import { CALLER, type RouteTable } from '../../../rtc/engine.js';
import { MediaError } from '../../errors.js';

/** Source id → the sinks that hear it, each with the slot (the sink's outbound stream) it is heard on. */
export type Fanout = Map<string, { sink: string; slot: number }[]>;

/** A routing table as a command gave it, checked: lists of source ids; the caller hears one source at most. */
export function checkRoutes(routes: RouteTable): RouteTable {
  const table: RouteTable = {};
  for (const [sink, sources] of Object.entries(routes)) {
    if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string')) {
      throw new MediaError('sdp-invalid', `route for ${sink} must be a list of source ids`);
    }
    table[sink] = sink === CALLER ? sources.slice(0, 1) : [...sources];
  }
  return table;
}

/** The default table: the agent hears the caller; the caller hears the agent once agent audio started (accept). */
export function defaultRoutes(agentLegId: string, agentAudioStarted: boolean): RouteTable {
  return { [agentLegId]: [CALLER], [CALLER]: agentAudioStarted ? [agentLegId] : [] };
}

/** The table turned around, for forwarding a packet from its source. */
export function fanoutOf(table: RouteTable): Fanout {
  const fanout: Fanout = new Map();
  for (const [sink, sources] of Object.entries(table)) {
    for (const [slot, source] of sources.entries()) {
      const list = fanout.get(source) ?? [];
      list.push({ sink, slot });
      fanout.set(source, list);
    }
  }
  return fanout;
}
