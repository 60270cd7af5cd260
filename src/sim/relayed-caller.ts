import { summarizeSdp } from '../media/sdp/parse.js';
import { validateWhatsAppOffer } from '../media/sdp/validate.js';
import type { SimCaller } from './sim-types.js';

/** The payload types of a WhatsApp caller's offer: Opus on 111, telephone-event/8000 on 126, nothing else. */
const WHATSAPP_PTS = [111, 126];

/**
 * A caller whose WebRTC peer lives outside the simulator, e.g. a browser page: the simulator relays the page's
 * offer in the `connect` webhook and holds the business's answer (from pre_accept, else accept) for the page to
 * collect ({@link answer}). Keys, audio and hang-up belong to the page; the simulator still plays Meta for the
 * call (webhooks, Graph API rules). The offer must look like a WhatsApp caller's: complete (candidates, no
 * trickle), Opus 111 and telephone-event/8000 126 only.
 */
export class RelayedCaller implements SimCaller {
  readonly offerSdp: string;
  readonly #answer: Promise<string>;
  #settle!: { resolve(sdp: string): void; reject(err: Error): void };
  #answered = false;

  /** Throws with every reason the offer is not one a WhatsApp caller would make. */
  constructor(offerSdp: string) {
    const check = validateWhatsAppOffer(offerSdp);
    const errors = check.ok ? [] : [...check.errors];
    if (check.ok) {
      const pts = summarizeSdp(offerSdp).payloadTypes;
      if (pts.join(',') !== WHATSAPP_PTS.join(','))
        errors.push(`payload types must be 111 (opus) and 126 (telephone-event/8000) only, got ${pts.join(', ')}`);
    }
    if (errors.length) throw new Error(`not a WhatsApp caller's offer: ${errors.join('; ')}`);
    this.offerSdp = offerSdp;
    this.#answer = new Promise<string>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Nobody may ever ask for the answer: an ended call must not leave an unhandled rejection behind.
    this.#answer.catch(() => undefined);
  }

  async applyAnswer(sdp: string): Promise<void> {
    this.#answered = true;
    this.#settle.resolve(sdp);
  }

  /** The business's answer SDP, once it pre-accepts (or accepts); rejects after `timeoutMs` or if the call ends. */
  answer(timeoutMs: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the business did not answer the relayed offer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([this.#answer, late]).finally(() => clearTimeout(timer));
  }

  close(): void {
    if (!this.#answered) this.#settle.reject(new Error('the call ended before the business answered'));
  }
}
