/** Where the service learns the time: injected so tests can move deadlines and expiry without waiting. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
