import 'reflect-metadata';
export * from './base.entity';
export * from './data-source';
export * from './naming-strategy';
export * from './uuid';
export * from './database.plugin';
