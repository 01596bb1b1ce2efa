const DAY_MS = 86_400_000;

export interface WorkingCalendarOptions {
  /** ISO dates that are holidays although they fall on a weekday. */
  holidays?: Iterable<string>;
  /** ISO dates that are working days although they fall on a weekend (调休 make-up days). */
  workingDays?: Iterable<string>;
  /** Civil time the days are counted in; deadlines end at local midnight, not UTC midnight. */
  utcOffsetMinutes?: number;
}

/**
 * Deadlines of the regulation are in working days: Monday to Friday, minus the
 * public holidays, plus the weekend days the State Council swaps in. Holiday
 * schedules are announced year by year, so they come from configuration rather
 * than from code.
 */
export class WorkingCalendar {
  private readonly holidays: Set<string>;
  private readonly workingDays: Set<string>;
  private readonly offsetMs: number;

  constructor(options: WorkingCalendarOptions = {}) {
    this.holidays = new Set(options.holidays ?? []);
    this.workingDays = new Set(options.workingDays ?? []);
    this.offsetMs = (options.utcOffsetMinutes ?? 480) * 60_000;
  }

  /** The local calendar date (YYYY-MM-DD) of an instant. */
  localDate(instant: Date): string {
    return new Date(instant.getTime() + this.offsetMs).toISOString().slice(0, 10);
  }

  isWorkingDay(isoDate: string): boolean {
    if (this.workingDays.has(isoDate)) return true;
    if (this.holidays.has(isoDate)) return false;
    const weekday = new Date(`${isoDate}T00:00:00Z`).getUTCDay();
    return weekday !== 0 && weekday !== 6;
  }

  /**
   * The instant by which something started at `start` must be done when it is given
   * `days` working days: the end of the `days`-th working day after the start's own
   * day (the day of submission does not count, as in administrative practice).
   * Returned as the following local midnight, so "overdue" is `now >= deadline`.
   */
  addWorkingDays(start: Date, days: number): Date {
    let date = this.localDate(start);
    let left = days;
    while (left > 0) {
      date = nextDate(date);
      if (this.isWorkingDay(date)) left--;
    }
    return new Date(Date.parse(`${nextDate(date)}T00:00:00Z`) - this.offsetMs);
  }

  /** The end of a local civil date (the following local midnight): something due on that day is overdue from then. */
  endOfDate(isoDate: string): Date {
    return new Date(Date.parse(`${nextDate(isoDate)}T00:00:00Z`) - this.offsetMs);
  }

  /** Working days from the local day of `from` (exclusive) to the local day of `to` (inclusive); 0 when `to` is not later. */
  workingDaysBetween(from: Date, to: Date): number {
    let date = this.localDate(from);
    const end = this.localDate(to);
    let n = 0;
    while (date < end) {
      date = nextDate(date);
      if (this.isWorkingDay(date)) n++;
    }
    return n;
  }
}

function nextDate(isoDate: string): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}
