import { type AnyStateMachine, createActor, type EventFrom, type InputFrom, type SnapshotFrom } from 'xstate';

/** One action XState collected during a transition (what `transition()` returns beside the snapshot). */
export type CollectedAction = Parameters<ActorScope['actionExecutor']>[0];

type ActorScope = Parameters<AnyStateMachine['transition']>[2];

const scopes = new WeakMap<AnyStateMachine, { scope: ActorScope; collected: CollectedAction[] }>();

/**
 * The actor scope XState's `transition()` builds for every call (`createInertActorScope`), built once per machine:
 * an actor that is never started (making it runs the machine's initial transition, the bulk of what `transition()`
 * costs), and every callback inert except the action executor, which only collects.
 *
 * Sharing it is sound for machines like ours: transitions run synchronously on one thread, the collector is replaced
 * before each one, and nothing reaches the actor's system (no invoked or spawned children, no delayed events —
 * `pure-transition.test.ts` holds the call machine to that).
 */
function scopeFor(machine: AnyStateMachine): { scope: ActorScope; collected: CollectedAction[] } {
  let entry = scopes.get(machine);
  if (entry) return entry;
  const self = createActor(machine);
  const holder: { scope: ActorScope; collected: CollectedAction[] } = {
    collected: [],
    scope: {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (action) => {
        holder.collected.push(action);
      },
    } as ActorScope,
  };
  entry = holder;
  scopes.set(machine, entry);
  return entry;
}

/**
 * `transition(machine, snapshot, event)` from XState without the throwaway actor: the next snapshot and the actions
 * to execute, none of them executed. Pure as long as the machine's guards, assigns and action params are.
 */
export function pureTransition<M extends AnyStateMachine>(
  machine: M,
  snapshot: SnapshotFrom<M>,
  event: EventFrom<M>,
): [SnapshotFrom<M>, CollectedAction[]] {
  return collecting(machine, (scope) => machine.transition(snapshot, event, scope) as SnapshotFrom<M>);
}

/** `initialTransition(machine, input)` from XState, on the same shared scope. */
export function pureInitialTransition<M extends AnyStateMachine>(
  machine: M,
  input: InputFrom<M>,
): [SnapshotFrom<M>, CollectedAction[]] {
  return collecting(machine, (scope) => machine.getInitialSnapshot(scope, input) as SnapshotFrom<M>);
}

function collecting<M extends AnyStateMachine>(
  machine: M,
  run: (scope: ActorScope) => SnapshotFrom<M>,
): [SnapshotFrom<M>, CollectedAction[]] {
  const entry = scopeFor(machine);
  const collected: CollectedAction[] = [];
  entry.collected = collected;
  try {
    return [run(entry.scope), collected];
  } finally {
    entry.collected = [];
  }
}
