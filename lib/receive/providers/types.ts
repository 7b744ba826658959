import type { NormalizedEvent } from '../../core/event';

/**
 * A request a provider cannot read for a reason outside the body (a missing header that names the event): answered
 * 400 naming `field` (e.g. "headers.X-GitHub-Event"), logged `rejected`.
 */
export class RequestFieldError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'RequestFieldError';
  }
}

/** A webhook request as every provider sees it, the same on API Gateway and locally. */
export interface WebhookRequest {
  /** header names lowercased */
  headers: Record<string, string>;
  query: Record<string, string>;
  /** the body as received, decoded as UTF-8 (for the trigger log); signatures never cover this text */
  rawBody: string;
  /**
   * the exact body bytes as received; every signature is computed over these (see requestBytes()). Optional
   * only so that hand-built requests (tests, benchmarks) may omit it: then rawBody's UTF-8 bytes stand in.
   */
  rawBytes?: Buffer;
  /** the body parsed (lib/receive/body.ts: JSON, or a form's `payload` JSON); undefined if it could not be */
  body: unknown;
}

/** The bytes a signature covers: the received bytes, or rawBody's UTF-8 bytes for a hand-built request. */
export function requestBytes(req: WebhookRequest): Buffer {
  return req.rawBytes ?? Buffer.from(req.rawBody, 'utf8');
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/**
 * What a provider made of a request it authenticated:
 * - events: one or more normalized events (one push may announce several tags);
 * - ignored: a valid delivery we do not act on (ping, pull, another artifact domain). It is answered
 *   202 and logged `untriggered` with the reason, never 400, so the sender does not retry or disable the hook.
 * A malformed body throws a ZodError (answered 400 naming the field).
 */
export type ParseResult =
  | {
      kind: 'events';
      events: NormalizedEvent[];
      /**
       * the events are separate deliveries a sender batched into one request (Distribution's `events[]`,
       * CloudEvents batched mode): one that breaks a grammar is rejected alone, and the request is still answered
       * 2xx so that the sender's queue never blocks on it
       */
      batch?: boolean;
    }
  | { kind: 'ignored'; reason: string; event?: Partial<NormalizedEvent> };

/** What a provider may need from the trigger while parsing (`api`: the tracked image; `generic`: the mapping). */
export interface ParseContext {
  trackedImage?: string;
  /** the `generic` provider reads the body through the trigger's JMESPath mapping (lib/receive/providers/generic.ts) */
  mapping?: Partial<Record<string, string>>;
}

export interface Provider {
  id: string;
  /** human name of the sender */
  title: string;
  /**
   * How the user configures the credential at the sender, shown when a trigger is created:
   * `query` puts ?token=<secret> in the webhook URL, `headers` lists headers to add at the sender.
   */
  credential: {
    query?: boolean;
    headers?: (secret: string) => Record<string, string>;
    /** other values to paste into the sender's settings, by the sender's field name (e.g. GitLab's signing token) */
    settings?: (secret: string) => Record<string, string>;
    /** one line for the README / admin answer, e.g. "Secret: <secret> (HMAC-SHA256 of the body)" */
    hint: string;
  };
  /**
   * Checks the credential against every accepted secret (current, and previous during rotation grace)
   * in constant time. Never puts a secret or a received credential into `reason`.
   */
  verify(req: WebhookRequest, secrets: readonly string[], now: Date): VerifyResult;
  /** Validates the body with the provider's zod schema and normalizes it. */
  parse(req: WebhookRequest, ctx: ParseContext): ParseResult;
  /** Header names (lowercase) that carry credentials and must be redacted from the trigger log. */
  credentialHeaders: string[];
  /** Body fields (top level) that carry credentials and must be redacted from the trigger log. */
  credentialBodyFields?: string[];
  /**
   * The sender may post `application/x-www-form-urlencoded` with the JSON in the `payload` field (GitHub,
   * Gogs, Gitea); the signature still covers the form bytes as received.
   */
  formPayload?: boolean;
}
