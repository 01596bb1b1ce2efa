export interface SweepResult {
  /** Requests flagged as delayed provision. */
  delayed: number;
  /** Grants expired. */
  expired: number;
  /** Objections and complaints flagged overdue. */
  overdueCases: number;
  /** Rectification orders overdue that became circulars. */
  circulated: number;
}

export interface Sweepable {
  sweepDeadlines(): Promise<number>;
}
export interface Expirable {
  sweepExpiry(): Promise<number>;
}
export interface CaseSweepable {
  sweepDeadlines(): Promise<{ overdue: number; circulated: number }>;
}

/**
 * Time-driven work: deadlines that pass (requests, objections, complaints, rectification orders) and grants that run out. Every replica may
 * run it (rows are claimed with SKIP LOCKED); tests call `run()` with a fake clock.
 */
export class Sweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SweepResult>;

  constructor(
    private readonly requests: Sweepable,
    private readonly grants: Expirable,
    private readonly cases: CaseSweepable,
    private readonly onError: (err: unknown) => void,
  ) {}

  async run(): Promise<SweepResult> {
    // One sweep at a time per process; a tick that finds one running waits for it instead of piling up.
    this.running ??= (async () => {
      try {
        const delayed = await this.requests.sweepDeadlines();
        const expired = await this.grants.sweepExpiry();
        const cases = await this.cases.sweepDeadlines();
        return { delayed, expired, overdueCases: cases.overdue, circulated: cases.circulated };
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  start(intervalMs: number): void {
    if (!intervalMs || this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch(this.onError);
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
