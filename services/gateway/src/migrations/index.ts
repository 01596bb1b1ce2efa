import { Initial1795688700959 } from './1795688700959-initial.migration';
import { ClientScopes1796181553478 } from './1796181553478-client-scopes.migration';
import { OutboxReplay1796689684142 } from './1796689684142-outbox-replay.migration';

// Applied in this order.
export const migrations = [Initial1795688700959, ClientScopes1796181553478, OutboxReplay1796689684142];
