import { Initial1795688921742 } from './1795688921742-initial.migration';
import { Requests1795689335401 } from './1795689335401-requests.migration';
import { TransitionAppendOnly1795689335402 } from './1795689335402-transition-append-only.migration';
import { AttachmentsNoDefault1795691597638 } from './1795691597638-attachments-no-default.migration';
import { GrantSupersededBy1795700000000 } from './1795700000000-grant-superseded-by.migration';
import { ClearItems1795710000000 } from './1795710000000-clear-items.migration';
import { Cases1796231477463 } from './1796231477463-cases.migration';
import { OutboxReplay1796689688317 } from './1796689688317-outbox-replay.migration';

// Applied in this order.
export const migrations = [
  Initial1795688921742,
  Requests1795689335401,
  TransitionAppendOnly1795689335402,
  AttachmentsNoDefault1795691597638,
  GrantSupersededBy1795700000000,
  ClearItems1795710000000,
  Cases1796231477463,
  OutboxReplay1796689688317,
];
