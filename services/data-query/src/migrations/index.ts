import { Initial1795688922081 } from './1795688922081-initial.migration';
import { Datasets1795689674546 } from './1795689674546-datasets.migration';
import { RowsSchema1795689674547 } from './1795689674547-rows-schema.migration';
import { ClearItems1795689674548 } from './1795689674548-clear-items.migration';
import { PullOrder1795700100000 } from './1795700100000-pull-order.migration';
import { WebhookSubscriptions1795700200000 } from './1795700200000-webhook-subscriptions.migration';
import { Jobs1796219516169 } from './1796219516169-jobs.migration';
import { OutboxReplay1796689690553 } from './1796689690553-outbox-replay.migration';

// Applied in this order.
export const migrations = [
  Initial1795688922081,
  Datasets1795689674546,
  RowsSchema1795689674547,
  ClearItems1795689674548,
  PullOrder1795700100000,
  WebhookSubscriptions1795700200000,
  Jobs1796219516169,
  OutboxReplay1796689690553,
];
