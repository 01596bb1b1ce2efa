import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { ClientScope } from '@gdx/auth';

/** A department's business system, authenticating with OAuth 2.0 client credentials. */
@Entity('client')
export class Client extends Base {
  @Index('client_unit')
  @Column('uuid')
  unitId: string;

  @Index('client_client_id', { unique: true })
  @Column('text')
  clientId: string;

  @Column('text')
  name: string;

  @Column('text')
  secretHash: string;

  @Column('text', { default: 'active' })
  status: 'active' | 'revoked';

  /** What its unit admin lets it do beyond reading (e.g. `data:submit`); its tokens carry them as `scope`. */
  @Column('text', { array: true, default: '{}' })
  scopes: ClientScope[];
}
