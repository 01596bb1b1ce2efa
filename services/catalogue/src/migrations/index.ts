import { Initial1795688921398 } from './1795688921398-initial.migration';
import { Resources1795690881171 } from './1795690881171-resources.migration';
import { SearchIndex1795690881172 } from './1795690881172-search-index.migration';
import { OutboxReplay1796689686117 } from './1796689686117-outbox-replay.migration';

// Applied in this order.
export const migrations = [Initial1795688921398, Resources1795690881171, SearchIndex1795690881172, OutboxReplay1796689686117];
