import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  newSigningSecret,
  storedWebhookNotifierSchema,
  webhookNotifier,
  webhookNotifierSchema,
} from '../../../lib/notify/webhook';
import { startTargetServer } from '../../helpers/target-server';
import { outcome, sendCtx } from './sample';

const config = (url: string, over: Record<string, unknown> = {}) =>
  storedWebhookNotifierSchema.parse({ type: 'webhook', url, secret: newSigningSecret(), ...over });

describe('webhook notifier', () => {
  it('posts the outcome JSON, signed so that standardwebhooks verifies it', async () => {
    const receiver = await startTargetServer(() => ({ status: 200, body: '{}' }));
    try {
      const c = config(`${receiver.url}/hooks/triggerfish`);
      expect(c.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const r = await webhookNotifier.send(c, outcome({}, 'https://tf.example.com'), sendCtx);
      expect(r).toEqual({ ok: true, retryable: false, statusCode: 200 });
      const call = receiver.calls[0];
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.headers['webhook-id']).toBe('msg_01JDEPLOYLOGENTRY000000001_succeeded');
      expect(call.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
      expect(call.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      const verified = new Webhook(c.secret).verify(call.body, call.headers as Record<string, string>);
      expect(verified).toEqual({
        type: 'deploy.succeeded',
        triggerId: 'a1b2c3d4e5f6a1b2c3d4e5f6',
        triggerName: 'web-prod',
        logId: '01JDEPLOYLOGENTRY000000001',
        status: 'succeeded',
        reason: null,
        event: {
          provider: 'dockerhub',
          action: 'push',
          image: 'library/web:1.4.0',
          tag: '1.4.0',
          digest: 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945',
          repository: 'library/web',
          branch: null,
          commit: null,
        },
        attempts: 2,
        durationMs: 1240,
        receivedAt: '2026-12-01T12:00:00.000Z',
        logUrl: 'https://tf.example.com/admin/triggers/a1b2c3d4e5f6a1b2c3d4e5f6/logs/01JDEPLOYLOGENTRY000000001',
      });
      // another secret, or a changed body, does not verify
      expect(() => new Webhook(newSigningSecret()).verify(call.body, call.headers as Record<string, string>)).toThrow(
        WebhookVerificationError,
      );
      expect(() =>
        new Webhook(c.secret).verify(call.body.replace('succeeded', 'failed'), call.headers as Record<string, string>),
      ).toThrow(WebhookVerificationError);
    } finally {
      await receiver.close();
    }
  });

  it('during a rotation grace period signs with the new and the previous secret; after it, with the new only', async () => {
    const receiver = await startTargetServer(() => ({ status: 204 }));
    try {
      const previous = newSigningSecret();
      const inGrace = config(`${receiver.url}/h`, {
        previousSecret: previous,
        previousSecretExpiresAt: Math.floor(Date.now() / 1000) + 3600,
      });
      await webhookNotifier.send(inGrace, outcome({ status: 'failed', reason: 'x' }), sendCtx);
      const first = receiver.calls[0];
      expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const s of [inGrace.secret, previous]) {
        expect(new Webhook(s).verify(first.body, first.headers as Record<string, string>)).toMatchObject({
          type: 'deploy.failed',
          reason: 'x',
        });
      }
      const expired = { ...inGrace, previousSecretExpiresAt: Math.floor(Date.now() / 1000) - 1 };
      await webhookNotifier.send(expired, outcome({ status: 'failed' }), sendCtx);
      const second = receiver.calls[1];
      expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(() => new Webhook(previous).verify(second.body, second.headers as Record<string, string>)).toThrow(
        WebhookVerificationError,
      );
    } finally {
      await receiver.close();
    }
  });

  it('a trigger body may not set the signing secret; admin answers never show it and hide query tokens', () => {
    const bad = webhookNotifierSchema.safeParse({
      type: 'webhook',
      url: 'https://hooks.example.com/in',
      secret: newSigningSecret(),
    });
    expect(bad.success).toBe(false);
    const c = config('https://hooks.example.com/in/path?token=abcdef123&x=1', {
      previousSecret: newSigningSecret(),
      previousSecretExpiresAt: 1,
    });
    const shown = webhookNotifier.redact(c);
    expect(shown).toEqual({
      type: 'webhook',
      url: 'https://hooks.example.com/in/path?token=[redacted]&x=[redacted]',
      on: ['succeeded', 'failed'],
    });
    expect(JSON.stringify(shown)).not.toContain('whsec_');
  });

  it('a code push names branch and commit in the event', async () => {
    const receiver = await startTargetServer(() => ({ status: 200 }));
    try {
      const c = config(`${receiver.url}/h`);
      await webhookNotifier.send(
        c,
        outcome({
          provider: 'github',
          event: {
            provider: 'github',
            kind: 'code',
            action: 'push',
            repository: 'web',
            namespace: 'acme',
            repoFullName: 'acme/web',
            branch: 'main',
            commit: { id: '9fceb02d0ae598e95dc970b74767f19372d61af8', message: 'fix: x', author: 'octocat' },
          },
        }),
        sendCtx,
      );
      const body = new Webhook(c.secret).verify(
        receiver.calls[0].body,
        receiver.calls[0].headers as Record<string, string>,
      ) as { event: unknown };
      expect(body.event).toEqual({
        provider: 'github',
        action: 'push',
        image: null,
        tag: null,
        digest: null,
        repository: 'acme/web',
        branch: 'main',
        commit: { id: '9fceb02d0ae598e95dc970b74767f19372d61af8', message: 'fix: x', author: 'octocat', url: null },
      });
    } finally {
      await receiver.close();
    }
  });
});
