import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

/** A signed commitment (承诺书): which text, in which version, who accepted it and when. */
@Entity('commitment_acceptance')
export class CommitmentAcceptance extends Base {
  @Index('commitment_acceptance_request', { unique: true })
  @Column('uuid')
  requestId: string;

  @Column('uuid')
  unitId: string;

  @Column('uuid')
  signerAccountId: string;

  @Column('timestamptz')
  acceptedAt: Date;

  @Column('text')
  commitmentVersion: string;

  /** SHA-256 (hex) of the exact UTF-8 text the signer accepted. */
  @Column('char', { length: 64 })
  textSha256: string;
}
