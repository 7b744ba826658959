import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { detailTypeOf, eventbridgeNotifier, eventbridgeNotifierSchema } from '../../../lib/notify/eventbridge';
import { outcome, sendCtx } from './sample';

const events = mockClient(EventBridgeClient);
beforeEach(() => events.reset());

describe('eventbridge notifier', () => {
  it('puts one event on the default bus: source triggerfish, detail-type by status, detail the webhook body', async () => {
    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }], $metadata: { httpStatusCode: 200 } });
    const config = eventbridgeNotifierSchema.parse({ type: 'eventbridge', on: ['succeeded', 'failed', 'superseded'] });
    const o = outcome({ status: 'superseded' as never, reason: 'superseded by 01JNEWER' });
    const r = await eventbridgeNotifier.send(config, o, sendCtx);
    expect(r).toEqual({ ok: true, retryable: false, statusCode: 200 });
    const calls = events.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      Entries: [{ Source: 'triggerfish', DetailType: 'Deploy Superseded', Detail: JSON.stringify(o) }],
    });
    expect(calls[0].args[0].input.Entries![0]).not.toHaveProperty('EventBusName');
    expect(JSON.parse(calls[0].args[0].input.Entries![0].Detail!)).toMatchObject({
      type: 'deploy.superseded',
      status: 'superseded',
      reason: 'superseded by 01JNEWER',
    });
  });

  it.each([
    ['succeeded', 'Deploy Succeeded'],
    ['failed', 'Deploy Failed'],
    ['superseded', 'Deploy Superseded'],
  ])('detail-type for %s is %s', (status, type) => {
    expect(detailTypeOf(status)).toBe(type);
  });

  it('a failed entry is an error (retryable when throttled)', async () => {
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      $metadata: { httpStatusCode: 200 },
    });
    const r = await eventbridgeNotifier.send(
      eventbridgeNotifierSchema.parse({ type: 'eventbridge' }),
      outcome(),
      sendCtx,
    );
    expect(r).toEqual({ ok: false, retryable: true, statusCode: 200, error: 'ThrottlingException: Rate exceeded' });
  });

  it('an SDK error (e.g. access denied) is answered, not thrown', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: events:PutEvents'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    events.on(PutEventsCommand).rejects(denied);
    const r = await eventbridgeNotifier.send(
      eventbridgeNotifierSchema.parse({ type: 'eventbridge' }),
      outcome(),
      sendCtx,
    );
    expect(r).toEqual({
      ok: false,
      retryable: false,
      statusCode: 400,
      error: 'AccessDeniedException: User is not authorized to perform: events:PutEvents',
    });
  });
});
