import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

/**
 * An item of a resource that carries a standard data element (标准数据元). One data,
 * one source: the partial unique index lets at most one use per element be the
 * authoritative one, so even racing claims cannot both win.
 */
@Entity('element_use')
@Index('element_use_one_source', ['element'], { unique: true, where: '"authoritative"' })
@Index('element_use_resource_item', ['resourceId', 'itemKey'], { unique: true })
export class ElementUse extends Base {
  @Column('text')
  element: string;

  @Column('uuid')
  resourceId: string;

  @Column('text')
  itemKey: string;

  @Column('boolean')
  authoritative: boolean;
}
