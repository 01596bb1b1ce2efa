import { Initial1795688921398 } from './1795688921398-initial.migration';

// Applied in this order.
export const migrations = [Initial1795688921398];
