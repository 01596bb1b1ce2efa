import { Initial1795688921742 } from './1795688921742-initial.migration';

// Applied in this order.
export const migrations = [Initial1795688921742];
