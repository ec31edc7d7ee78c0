import { SequenceTally } from '../../scripts/soak/sequence-tally';

test('numbers that arrive once and in order count as received, with nothing lost, duplicated or reordered', () => {
  const tally = new SequenceTally();
  for (let seq = 0; seq < 200; seq++) tally.record(seq);
  expect({ received: tally.received, lost: tally.lost(200), duplicated: tally.duplicated, reordered: tally.reordered }).toEqual({
    received: 200,
    lost: 0,
    duplicated: 0,
    reordered: 0,
  });
});

test('a missing number counts as lost, a repeated one as duplicated and a late one as reordered', () => {
  const tally = new SequenceTally();
  for (const seq of [0, 1, 3, 2, 3, 5]) tally.record(seq);
  expect({ lost: tally.lost(6), duplicated: tally.duplicated, reordered: tally.reordered }).toEqual({ lost: 1, duplicated: 1, reordered: 1 });
});
