/**
 * What every end of a deploy does besides its log entry, whether the deployer ends it or its verification phase
 * (./verify): the line that names the event, Docker Hub's callback, the Kato-style tracked image.
 */
import { config } from '../core/config';
import { logger } from '../core/logger';
import { imageRef, parseImageRef, type NormalizedEvent } from '../core/event';
import * as store from '../store/store';
import type { Trigger } from '../trigger';
import { allowedCallback, postCallback, type CallbackOutcome } from './dockerhub-callback';

/** "registry/ns/repo:tag" for images, "owner/repo@branch commit" for code: what a log line names. */
export function describeEvent(event: NormalizedEvent): string {
  if (event.kind === 'code')
    return `${event.repoFullName}${event.branch ? `@${event.branch}` : event.tag ? `:${event.tag}` : ''}${event.commit ? ` ${event.commit.id.slice(0, 12)}` : ''}`;
  return (
    event.image ??
    imageRef({ registry: event.registry, repoFullName: event.repoFullName, tag: event.tag, digest: event.digest })
  );
}

/** Docker Hub's callback_url, when the push came from Docker Hub with one (and only to Docker Hub). */
export async function answerDockerHub(event: NormalizedEvent, state: CallbackOutcome['state'], description: string) {
  if (event.provider !== 'dockerhub' || !config.dockerhubCallbacks()) return;
  const url = allowedCallback(event.callbackUrl, config.dockerhubCallbackExtraHosts());
  if (url) await postCallback(url, { state, description: description.slice(0, 255), context: 'Triggerfish' });
}

/** Kato-style: with an image and a tag rule, a successful deploy advances the tracked image's tag. */
export async function advanceTrackedImage(trigger: Trigger, tag?: string, digest?: string): Promise<void> {
  const tracked = trigger.trackedImage ?? trigger.match.image;
  if (!tracked || !trigger.match.tags || (!tag && !digest)) return;
  const ref = parseImageRef(tracked);
  const image = imageRef({ registry: ref.registry, repoFullName: ref.repoFullName, tag, digest });
  const result = await store.changeTrigger(trigger.id, (current) =>
    current.match.image !== trigger.match.image || !current.match.tags
      ? { answer: 'tracking restarted' }
      : // UpdateItem: the deployer's role may update the trigger item, never replace it
        { set: { trackedImage: image }, answer: 'advanced' },
  );
  // deleted meanwhile: nothing to track. Losing every try to admin writes is not worth failing a finished deploy
  // for (the deploy happened); it is logged so that it is seen.
  if (result.status === 'conflict') {
    logger.error('tracked image not advanced: the trigger kept changing', { triggerId: trigger.id, image });
  }
}

/** The reason a succeeded entry keeps: none, except a rollback says what it was (its queued reason is gone). */
export function succeededReason(entry: { rollbackOf?: string }): string | null {
  return entry.rollbackOf ? `rollback of ${entry.rollbackOf} succeeded` : null;
}
