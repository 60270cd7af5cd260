/**
 * Turns a wrtc offer into one shaped like the offers WhatsApp sends for user-initiated calls
 * (docs/whatsapp-platform.md §3).
 *
 * What matches Meta's offer: session-level `a=ice-lite`; `a=group:BUNDLE audio` and `a=mid:audio`; one
 * `m=audio … UDP/TLS/RTP/SAVPF 111 126`; Opus/48000/2 on 111 with Meta's fmtp (`maxaveragebitrate=20000;
 * maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1`) and `rtcp-fb transport-cc`;
 * telephone-event/8000 on 126; `a=ptime:20` and `a=maxptime:20`; `a=setup:actpass`; one sha-256 fingerprint;
 * `a=rtcp-mux`; UDP host candidates only; no `a=ice-options:trickle`; complete (gathered) candidates; `c=` naming
 * the first candidate's address.
 *
 * What differs, and why:
 * - The caller is not really ICE-lite: libwebrtc has no lite mode, so the caller peer stays a full agent that also
 *   sends checks. The bridge still sees `a=ice-lite` and takes the controlling role; the two agents then resolve
 *   the role conflict (RFC 8445 §7.3.1.1) and connect (measured: every time, ≈50 ms slower than without
 *   the line). The real peer never sends checks, so a bridge that waits for the peer to check first would pass
 *   here and fail with WhatsApp.
 * - Candidates are loopback (127.0.0.1 and ::1) on separate ports per family; Meta uses one port (3480–3484) on
 *   its public IPv4 and IPv6 addresses, with `network-cost 50` instead of `network-id`.
 * - wrtc adds `a=extmap-allow-mixed`, `a=msid-semantic: WMS` without a stream id, an `a=msid` with its own track id
 *   and two `a=ssrc` lines (cname and msid); Meta has `a=ssrc:<n> cname:WhatsAppAudioStream1` and
 *   `a=msid:<stream> WhatsAppTrack1`. The cname is rewritten to WhatsAppAudioStream1 in the local description; the
 *   ssrc msid line and extmaps are removed from what is sent. The `o=` line is wrtc's.
 * - The fmtp, ptime and maxptime lines are added to what is sent only: they steer how the bridge encodes towards
 *   the caller (16 kHz, 20 kbit/s), while the caller's own encoder follows the bridge's answer.
 */

import { normalizeSdp, sdpLines } from '../media/sdp/lines.js';
import { filterSdpCandidates } from '../media/sdp/rewrite.js';
import { NetworkFilter } from '../rtc/cidr.js';

const META_OPUS_FMTP =
  'maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1';

export interface MetaOfferOptions {
  /** Candidates outside these networks are removed. @default loopback */
  allowedNetworks?: readonly string[];
  /** Add session-level `a=ice-lite` like Meta. @default true */
  iceLite?: boolean;
}

/**
 * Applied to the offer before setLocalDescription: renames the audio mid to `audio` and the cname to
 * WhatsAppAudioStream1 (libwebrtc accepts both; what the answer refers to must match the local description).
 */
export function mungeLocalOfferLikeMeta(sdp: string): string {
  const lines = sdpLines(sdp);
  const mid = lines.find((l) => l.startsWith('a=mid:'))?.slice(6);
  return normalizeSdp(
    lines
      .map((l) => {
        if (mid !== undefined && l.startsWith('a=group:BUNDLE')) {
          return l
            .split(' ')
            .map((t) => (t === mid ? 'audio' : t))
            .join(' ');
        }
        if (mid !== undefined && l === `a=mid:${mid}`) return 'a=mid:audio';
        return l.replace(/^(a=ssrc:\d+ cname:).*$/, '$1WhatsAppAudioStream1');
      })
      .join('\r\n'),
  );
}

/** Shapes the gathered local offer into what is sent to the service (see the file comment). */
export function shapeOfferLikeMeta(sdp: string, opts: MetaOfferOptions = {}): string {
  const networks = new NetworkFilter(opts.allowedNetworks ?? ['127.0.0.0/8', '::1/128']);
  const filtered = filterSdpCandidates(sdp, { allowedNetworks: networks, udpOnly: true });
  const out: string[] = [];
  let inAudio = false;
  for (const line of sdpLines(filtered)) {
    if (line === 'a=extmap-allow-mixed' || line.startsWith('a=extmap:') || line === 'a=ice-options:trickle') continue;
    if (/^a=ssrc:\d+ msid:/.test(line)) continue;
    if (line.startsWith('a=fmtp:111 ')) {
      out.push(`a=fmtp:111 ${META_OPUS_FMTP}`);
      continue;
    }
    if (line.startsWith('m=')) inAudio = line.startsWith('m=audio');
    out.push(line);
    if ((opts.iceLite ?? true) && line.startsWith('a=msid-semantic')) out.push('a=ice-lite');
    if (inAudio && line.startsWith('a=rtpmap:126 ')) out.push('a=maxptime:20', 'a=ptime:20');
  }
  if ((opts.iceLite ?? true) && !out.includes('a=ice-lite')) {
    const firstMedia = out.findIndex((l) => l.startsWith('m='));
    out.splice(firstMedia === -1 ? out.length : firstMedia, 0, 'a=ice-lite');
  }
  return normalizeSdp(out.join('\r\n'));
}
