/**
 * `verify.http`: one GET of a URL of the user's (a `/version` endpoint), under the outbound rules of targets (static
 * rules here, addresses at connect time in sendRequest). Done when it answers 2xx with a body that contains the
 * deployed tag, digest or commit; anything else (another version, a 503, a refused connection) is "not yet" until
 * the verification's timeout. Header values never reach a message (sendRequest redacts them from the body too).
 */
import { checkUrlStatic } from '../../core/outbound';
import type { NormalizedEvent } from '../../core/event';
import { sendRequest, USER_AGENT } from '../targets/http';
import type { VerifyPoll } from '../targets/types';
import type { VerifyConfig } from './schema';

type VerifyHttp = NonNullable<Exclude<VerifyConfig, false>['http']>;

/** What the body must contain: the tag, the digest or the commit deployed (any of them). */
export function expectedVersions(event: NormalizedEvent): string[] {
  return [event.tag, event.digest, event.commit?.id].filter((v): v is string => !!v);
}

export async function pollVersionUrl(
  http: VerifyHttp,
  event: NormalizedEvent,
  allowPrivate: boolean,
): Promise<VerifyPoll> {
  const wanted = expectedVersions(event);
  const refused = checkUrlStatic(http.url);
  if (refused) return { done: true, ok: false, message: `verify.http URL refused: ${refused}` };
  if (!wanted.length) return { done: true, ok: false, message: 'the event names no tag, digest or commit to look for' };
  const answer = await sendRequest(
    { url: new URL(http.url), method: 'GET', headers: { ...http.headers, 'user-agent': USER_AGENT } },
    { allowPrivate },
  );
  const what = wanted.join(' or ');
  if (answer.error?.startsWith('URL refused')) return { done: true, ok: false, message: `verify.http ${answer.error}` };
  if (!answer.ok) return { done: false, message: `verify.http: ${answer.error ?? `HTTP ${answer.statusCode}`}` };
  const found = wanted.find((w) => answer.response?.includes(w));
  return found
    ? { done: true, ok: true, message: `verify.http: HTTP ${answer.statusCode}, the body contains ${found}` }
    : { done: false, message: `verify.http: HTTP ${answer.statusCode}, body does not contain ${what}` };
}
