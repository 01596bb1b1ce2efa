import { Initial1795688922417 } from './1795688922417-initial.migration';
import { AuditTrail1795689233405 } from './1795689233405-audit-trail.migration';
import { EscapedRecords1795700000000 } from './1795700000000-escaped-records.migration';
import { DeliveryHashes1795700200000 } from './1795700200000-delivery-hashes.migration';
import { AssessmentInspection1796240000000 } from './1796240000000-assessment-inspection.migration';
import { OutboxReplay1796689692830 } from './1796689692830-outbox-replay.migration';

// Applied in this order.
export const migrations = [Initial1795688922417, AuditTrail1795689233405, EscapedRecords1795700000000, DeliveryHashes1795700200000, AssessmentInspection1796240000000, OutboxReplay1796689692830];
