/** A rollback's notifications name it (issue 22): the webhook body carries rollbackOf, chat facts say so. */
import { factsOf, outcomeOf } from '../../../lib/notify/message';
import { entry, trigger } from './sample';

it('a rollback entry: rollbackOf in the body, "(rollback of <id>)" in the status fact', () => {
  const o = outcomeOf(trigger(), entry({ origin: 'rollback', rollbackOf: '01JFAILEDVERIFICATION00001' }));
  expect(o.rollbackOf).toBe('01JFAILEDVERIFICATION00001');
  expect(factsOf(o).find((f) => f.name === 'Status')?.value).toBe('succeeded (rollback of 01JFAILEDVERIFICATION00001)');
});

it('any other entry: no rollbackOf key, the status alone', () => {
  const o = outcomeOf(trigger(), entry());
  expect('rollbackOf' in o).toBe(false);
  expect(factsOf(o).find((f) => f.name === 'Status')?.value).toBe('succeeded');
});
