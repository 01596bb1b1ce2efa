import type { MigrationInterface, QueryRunner } from 'typeorm';
import { outboxReplayDown, outboxReplayUp } from '@gdx/events';

export class OutboxReplay1796689684142 implements MigrationInterface {
  name = 'OutboxReplay1796689684142';

  async up(runner: QueryRunner): Promise<void> {
    await outboxReplayUp(runner);
  }

  async down(runner: QueryRunner): Promise<void> {
    await outboxReplayDown(runner, 'gateway');
  }
}
