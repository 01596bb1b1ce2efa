import { Initial1795688700959 } from './1795688700959-initial.migration';

// Applied in this order.
export const migrations = [Initial1795688700959];
