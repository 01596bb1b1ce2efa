import { Initial1795688922417 } from './1795688922417-initial.migration';

// Applied in this order.
export const migrations = [Initial1795688922417];
