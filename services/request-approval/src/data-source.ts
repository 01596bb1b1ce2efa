import { createDataSource } from '@gdx/database';
import { EVENT_ENTITIES } from '@gdx/events';
import { migrations } from './migrations';
import { ShareRequest } from './entities/share-request.entity';
import { Grant } from './entities/grant.entity';
import { Transition } from './entities/transition.entity';
import { CommitmentAcceptance } from './entities/commitment-acceptance.entity';
import { Case } from './entities/case.entity';
import { CaseDocument } from './entities/case-document.entity';
import { CaseCounter } from './entities/case-counter.entity';
import { Circular } from './entities/circular.entity';
import { Notice } from './entities/notice.entity';
import { NoticeRevision } from './entities/notice-revision.entity';
import { KnownBatch } from './entities/known-batch.entity';

export const APPROVAL_SCHEMA = 'approval';

/** Entities of this service; add new ones here, then generate a migration. */
export const entities = [...EVENT_ENTITIES, ShareRequest, Grant, Transition, CommitmentAcceptance, Case, CaseDocument, CaseCounter, Circular, Notice, NoticeRevision, KnownBatch];

export function requestApprovalDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: APPROVAL_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-request-approval' });
}
