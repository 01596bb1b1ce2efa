import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensurePullOrder } from '../datasets/dataset.service';

/** Rows tables made before data calls get their row id and pull-order index (see ensurePullOrder). */
export class PullOrder1795700100000 implements MigrationInterface {
  name = 'PullOrder1795700100000';

  async up(runner: QueryRunner): Promise<void> {
    const tables = (await runner.query('SELECT table_name FROM dataset')) as { table_name: string }[];
    for (const { table_name } of tables) await ensurePullOrder((sql) => runner.query(sql), table_name);
  }

  async down(): Promise<void> {
    // The row ids are kept: dropping them would make every cursor given out useless.
  }
}
