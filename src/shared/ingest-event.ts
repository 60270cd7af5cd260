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
  | { kind: 'status'; callId: string; status: string; receivedAt: number };
