import fp from 'fastify-plugin';
import type { DataSource } from 'typeorm';
import { migrate } from './data-source';

declare module 'fastify' {
  interface FastifyInstance {
    db: DataSource;
  }
}

export interface DatabasePluginOptions {
  dataSource: DataSource;
  migrateOnStart: boolean;
}

export const databasePlugin = fp<DatabasePluginOptions>(
  async (app, { dataSource, migrateOnStart }) => {
    if (migrateOnStart) {
      const applied = await migrate(dataSource);
      if (applied.length) app.log.info({ applied }, 'migrations applied');
    }
    if (!dataSource.isInitialized) await dataSource.initialize();
    app.decorate('db', dataSource);
    app.addHook('onClose', async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
    });
  },
  { name: 'gdx-database', fastify: '5.x' },
);
