import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { Actor } from '@gdx/contracts';

export type VersionChange = 'created' | 'updated' | 'published' | 'deprecated';

/** One state of a resource: who changed what and when, and the full view as it then was. */
@Entity('resource_version')
@Index('resource_version_resource_version', ['resourceId', 'version'], { unique: true })
export class ResourceVersion extends Base {
  @Column('uuid')
  resourceId: string;

  @Column('integer')
  version: number;

  @Column('text')
  change: VersionChange;

  @Column('text', { array: true })
  changedFields: string[];

  @Column('jsonb')
  actor: Actor;

  /** The resource view at this version, exactly as GET returned it then. */
  @Column('jsonb')
  snapshot: Record<string, unknown>;
}
