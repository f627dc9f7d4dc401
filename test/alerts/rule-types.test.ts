import assert from 'node:assert/strict';
import { anyType, frequencyType, KeyState, RuleEvent } from '../../src/alerts/rule-types';

const MIN = 60_000;
const e = (key: string, minute: number, n = minute): RuleEvent => ({ key, ts: minute * MIN, source: `f.log:${n}` });
const freq = { name: 'frequency' as const, threshold: 2, windowMs: 60 * MIN };

/** [name, events, expected matches as key@minute (the trigger), state carried in]. */
const FREQUENCY_CASES: [string, RuleEvent[], string[], Record<string, KeyState>?][] = [
  ['one event is not enough', [e('a', 0)], []],
  ['two within the hour match at the second', [e('a', 0), e('a', 30)], ['a@30']],
  ['exactly 60 minutes apart still counts', [e('a', 0), e('a', 60)], ['a@60']],
  ['61 minutes apart does not', [e('a', 0), e('a', 61)], []],
  ['keys are counted apart', [e('a', 0), e('b', 10), e('a', 70), e('b', 20)], ['b@20']],
  ['a third event in the window matches again (realert decides)', [e('a', 0), e('a', 10), e('a', 20)], ['a@10', 'a@20']],
  ['the count continues from the last run', [e('a', 40)], ['a@40'], { a: { recent: [{ source: 'f.log:0', ts: 0 }] } }],
  ['an old remembered event no longer counts', [e('a', 200)], [], { a: { recent: [{ source: 'f.log:0', ts: 0 }] } }],
];

describe('rule types are pure functions of events', () => {
  it('any: every event is a match for its key', () => {
    const r = anyType.evaluate({ name: 'any' }, {}, [e('a', 1), e('b', 2), e('a', 3)]);
    assert.deepEqual(r.matches.map((m) => `${m.key}@${m.trigger.ts / MIN}`), ['a@1', 'b@2', 'a@3']);
    assert.deepEqual(r.state, {});
  });

  for (const [name, events, expected, state] of FREQUENCY_CASES) {
    it(`frequency (2 within 60m): ${name}`, () => {
      const r = frequencyType.evaluate(freq, state ?? {}, events);
      assert.deepEqual(r.matches.map((m) => `${m.key}@${m.trigger.ts / MIN}`), expected);
    });
  }

  it('frequency: a match carries the events of its window, and the state forgets quiet keys', () => {
    const r = frequencyType.evaluate(freq, {}, [e('a', 0), e('a', 30), e('b', 200)]);
    assert.deepEqual(r.matches[0]!.events.map((x) => x.source), ['f.log:0', 'f.log:30']);
    assert.deepEqual(Object.keys(r.state), ['b'], 'a has nothing within the last window before the newest event');
  });

  it('frequency: does not change the state it was given', () => {
    const given = { a: { recent: [{ source: 'x', ts: 0 }] } };
    frequencyType.evaluate(freq, given, [e('a', 10)]);
    assert.deepEqual(given, { a: { recent: [{ source: 'x', ts: 0 }] } });
  });

  it('the same events in one run or split over runs give the same matches', () => {
    const events = [e('a', 0), e('b', 5), e('a', 50), e('a', 55), e('b', 100), e('b', 130), e('c', 300)];
    const whole = frequencyType.evaluate(freq, {}, events).matches.map((m) => m.trigger.source);
    let state: Record<string, KeyState> = {};
    const split: string[] = [];
    for (const chunk of [events.slice(0, 2), events.slice(2, 3), events.slice(3, 6), events.slice(6)]) {
      const r = frequencyType.evaluate(freq, state, chunk);
      state = r.state;
      split.push(...r.matches.map((m) => m.trigger.source));
    }
    assert.deepEqual(split, whole);
  });
});
