import type { CaptureKind } from './meta-capture.js';

/**
 * One thing Meta told us, validated and ready for a call actor. Queued in a Redis stream by the http role (the
 * 200 goes out once it is there: durable) and applied by the worker role's ingest consumer.
 */
export type IngestEvent =
  | {
      kind: 'connect';
      callId: string;
      phoneNumberId: string;
      businessNumber: string;
      waId: string | undefined;
      name: string | undefined;
      sdp: string;
      receivedAt: number;
    }
  | {
      kind: 'terminate';
      callId: string;
      status: 'COMPLETED' | 'FAILED';
      errorCode: number | undefined;
      errorTitle: string | undefined;
      receivedAt: number;
    }
  | { kind: 'status'; callId: string; status: string; receivedAt: number }
  /** A business-initiated call's `connect`: Meta's answer to our offer (callId is Meta's). */
  | { kind: 'wa-answer'; callId: string; sdp: string; receivedAt: number }
  /** A user answered a call-permission request (`messages` field); `callId` is the user's number, for ordering. */
  | {
      kind: 'permission-reply';
      callId: string;
      phoneNumberId: string;
      waId: string;
      response: 'accept' | 'reject';
      permanent: boolean;
      expiresAt: number | undefined;
      receivedAt: number;
    }
  /** Meta's recording or transcript of a call is ready (`AVAILABLE`, with its media id) or could not be made. */
  | {
      kind: 'meta-media';
      callId: string;
      media: CaptureKind;
      mediaId: string;
      status: 'AVAILABLE' | 'FAILED';
      errorCode: number | undefined;
      errorTitle: string | undefined;
      receivedAt: number;
    };
