/**
 * @gdx/data-query/testing: synthetic data, loaders and pure modules that tests and
 * benches exercise directly, for this repository's tests and benches only. Not an API:
 * names here may change with the service's internals.
 */
export { creditCodeOf, personOf, rowMaker, starterResources, starterResourceView, writeNdjson } from './synthetic/synthetic-data';
export { copyNdjsonIntoDataset } from './synthetic/copy-loader';
export { DatasetRegistry } from './datasets/dataset-registry';
export { columnOf, tableNameOf, upsertKeyOf } from './datasets/resource-model';
export { compareItemValues, formatDecimal, formatItemValue, parseItemValue } from './datasets/item-values';
export { RowValidator, type RowError } from './batches/row-validator';
export { readRecords, RecordParseError, BatchFormatError, type BatchFormat } from './batches/record-readers';
export { applyMask, isClear, maskerOf } from './query/masking';
export { newSigningSecret, signWebhook, verifyWebhook } from './subscriptions/webhook-signature';
export { checkWebhookUrl, type Resolver, type WebhookUrlPolicy } from './subscriptions/webhook-target';
