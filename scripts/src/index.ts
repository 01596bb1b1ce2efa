/**
 * @gdx/scripts: the platform's command-line scripts (start, migrate, seed, openapi) live
 * beside this file; what they share with this repository's tests and benches is
 * exported here, and only here.
 */
export { SERVICE_DATABASES } from './services';
export { buildOpenapiDocuments, serialise } from './openapi-documents';
export { seedAll, resetNotice, CREDENTIALS_FILE } from './seed';
export { backup, restore, tableCounts, BACKUP_FORMAT, type BackupManifest, type RestoreReport } from './backup';
