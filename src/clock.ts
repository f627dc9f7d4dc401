import { Config } from './config';

/** Milliseconds since the epoch, "now" as the product sees it. Tests and replays use other clocks. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock that starts at `start` and runs forward in real time (demos on old logs, replays). */
export function clockFrom(start: string, real: Clock = systemClock): Clock {
  const offset = Date.parse(start) - real();
  return () => real() + offset;
}

/** A clock that never moves (tests, `alerts run` replays); `set` and `advance` move it by hand. */
export function manualClock(start: string | number): Clock & { set(t: string | number): void; advance(ms: number): void } {
  let now = typeof start === 'number' ? start : Date.parse(start);
  const clock = (() => now) as Clock & { set(t: string | number): void; advance(ms: number): void };
  clock.set = (t) => (now = typeof t === 'number' ? t : Date.parse(t));
  clock.advance = (ms) => (now += ms);
  return clock;
}

export function createClock(config: Pick<Config, 'clock'>): Clock {
  return config.clock.kind === 'system' ? systemClock : clockFrom(config.clock.start);
}
