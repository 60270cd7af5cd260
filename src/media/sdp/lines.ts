/**
 * SDP as lines: the representation the rewriters work on, so that every line they do not mean to change stays byte
 * for byte, in order, and the result always ends lines with CRLF (WhatsApp's own SDP does; a mangled offer is the
 * classic "SDP without DTLS fingerprint" failure).
 */

/** Splits on CRLF or LF, dropping the empty tail. */
export function sdpLines(sdp: string): string[] {
  const lines = sdp.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Joins lines with CRLF, ending with one. */
export function joinLines(lines: readonly string[]): string {
  return lines.join('\r\n') + '\r\n';
}

/** [session lines, m-section 1 lines, m-section 2 lines, …]; each m-section starts with its `m=` line. */
export function splitSections(lines: readonly string[]): string[][] {
  const sections: string[][] = [[]];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([]);
    sections[sections.length - 1]?.push(line);
  }
  return sections;
}

/** Normalizes line endings to CRLF (wrtc accepts LF, WhatsApp's own SDP uses CRLF). */
export function normalizeSdp(sdp: string): string {
  return joinLines(sdpLines(sdp));
}
