/**
 * Coordination between this agent's tabs in one browser: exactly one tab holds a call's media. Without it, a second
 * tab opening during a call would send its own offer and take the agent leg away from the tab in use.
 *
 * - A tab that starts media for a call claims it (`claim`); others that hold it let go (`release` handler).
 * - A tab that learns of a call from its session asks who holds it (`whoHolds`); the holder answers.
 */
type Message =
  | { type: 'who-holds'; callId: string; from: string }
  | { type: 'holds'; callId: string; from: string; to: string }
  | { type: 'claim'; callId: string; from: string };

export class TabChannel {
  readonly tabId = Math.random().toString(36).slice(2, 10);
  readonly #channel: BroadcastChannel | undefined;
  readonly #held = new Set<string>();
  readonly #waiting = new Map<string, () => void>();
  #onTakenOver: (callId: string) => void = () => {};

  constructor(agentId: string) {
    try {
      this.#channel = new BroadcastChannel(`wacc-agent-${agentId}`);
      this.#channel.onmessage = (e: MessageEvent<Message>) => this.#receive(e.data);
    } catch {
      this.#channel = undefined; // Not supported: every tab acts alone.
    }
  }

  /** Called when another tab of this agent took over a call this tab held. */
  onTakenOver(handler: (callId: string) => void): void {
    this.#onTakenOver = handler;
  }

  /** This tab now holds `callId`'s media; any other tab holding it lets go. */
  claim(callId: string): void {
    this.#held.add(callId);
    this.#post({ type: 'claim', callId, from: this.tabId });
  }

  /** This tab no longer holds `callId`. */
  release(callId: string): void {
    this.#held.delete(callId);
  }

  holds(callId: string): boolean {
    return this.#held.has(callId);
  }

  /** Whether another tab answers that it holds `callId`'s media within `timeoutMs`. */
  whoHolds(callId: string, timeoutMs = 400): Promise<boolean> {
    if (!this.#channel) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(callId);
        resolve(false);
      }, timeoutMs);
      this.#waiting.set(callId, () => {
        clearTimeout(timer);
        this.#waiting.delete(callId);
        resolve(true);
      });
      this.#post({ type: 'who-holds', callId, from: this.tabId });
    });
  }

  close(): void {
    this.#channel?.close();
  }

  #receive(m: Message): void {
    if (m.from === this.tabId) return;
    if (m.type === 'who-holds' && this.#held.has(m.callId)) {
      this.#post({ type: 'holds', callId: m.callId, from: this.tabId, to: m.from });
    } else if (m.type === 'holds' && m.to === this.tabId) {
      this.#waiting.get(m.callId)?.();
    } else if (m.type === 'claim' && this.#held.has(m.callId)) {
      this.#held.delete(m.callId);
      this.#onTakenOver(m.callId);
    }
  }

  #post(m: Message): void {
    try {
      this.#channel?.postMessage(m);
    } catch {
      // The channel closed with the page.
    }
  }
}
