/**
 * SDP fixtures. The WhatsApp offer has the shape of a captured one (docs/whatsapp-platform.md §3), with Meta's public addresses
 * replaced by 127.0.0.1 and ::1: never feed a peer connection a real Meta address.
 */
export const META_OFFER_SDP = [
  'v=0',
  'o=- 1760681506762 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE audio',
  'a=msid-semantic: WMS c3867497-e6f7-4408-82b7-80dbd11b94cf',
  'a=ice-lite',
  'm=audio 3484 UDP/TLS/RTP/SAVPF 111 126',
  'c=IN IP4 127.0.0.1',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3935165743 1 udp 2122260223 127.0.0.1 3484 typ host generation 0 network-cost 50',
  'a=candidate:2617197009 1 udp 2122262783 ::1 3484 typ host generation 0 network-cost 50',
  'a=ice-ufrag:AeinEGDfvqBctbtM',
  'a=ice-pwd:F6/jjqL0/8/Dzluc0IoZEQ==',
  'a=fingerprint:sha-256 A2:EC:E2:C4:E4:FE:75:63:39:0D:77:45:DF:70:64:BC:F9:96:73:DE:F4:92:E5:78:D0:5B:1F:8F:E7:46:D3:C6',
  'a=setup:actpass',
  'a=mid:audio',
  'a=sendrecv',
  'a=msid:c3867497-e6f7-4408-82b7-80dbd11b94cf WhatsAppTrack1',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1',
  'a=rtpmap:126 telephone-event/8000',
  'a=maxptime:20',
  'a=ptime:20',
  'a=ssrc:1047224411 cname:WhatsAppAudioStream1',
  '',
].join('\r\n');

/** A wrtc-style answer to META_OFFER_SDP as it comes out of createAnswer + gathering, before munging. */
export const RAW_ANSWER_SDP = [
  'v=0',
  'o=- 5626246991557957248 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE audio',
  'a=msid-semantic: WMS',
  'm=audio 49735 UDP/TLS/RTP/SAVPF 111 0 126',
  'c=IN IP4 192.0.2.2',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3077952869 1 udp 2122265343 fd00::2 33670 typ host generation 0 network-id 2',
  'a=candidate:3229573512 1 udp 2122194687 192.0.2.2 49735 typ host generation 0 network-id 1',
  'a=candidate:559267639 1 udp 2122136831 ::1 39774 typ host generation 0 network-id 4',
  'a=candidate:1510613869 1 udp 2122063615 127.0.0.1 49336 typ host generation 0 network-id 3',
  'a=candidate:344579997 1 tcp 1518083839 127.0.0.1 56917 typ host tcptype passive generation 0 network-id 3',
  'a=ice-ufrag:KIAK',
  'a=ice-pwd:PsU+35rLypsVbDrf+0TaRunm',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 CC:3E:BC:12:03:B7:F1:22:05:F7:E5:05:26:64:AB:72:85:E3:48:44:1A:17:15:24:25:05:FB:13:1F:00:96:13',
  'a=fingerprint:sha-1 CC:3E:BC:12:03:B7:F1:22:05:F7:E5:05:26:64:AB:72:85:E3:48:44',
  'a=setup:actpass',
  'a=mid:audio',
  'a=sendrecv',
  'a=msid:- fd2cd9fb-cf42-44c6-80a2-953a36bcb152',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:3261460012 cname:1f3Nvz2JcF3joZaM',
  '',
].join('\r\n');

/** The SDP without the lines that match `re` (CRLF kept). */
export const sdpWithout = (sdp: string, re: RegExp): string =>
  sdp
    .split('\r\n')
    .filter((l) => !re.test(l))
    .join('\r\n');
