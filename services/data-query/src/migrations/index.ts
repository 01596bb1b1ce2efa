import { Initial1795688922081 } from './1795688922081-initial.migration';

// Applied in this order.
export const migrations = [Initial1795688922081];
