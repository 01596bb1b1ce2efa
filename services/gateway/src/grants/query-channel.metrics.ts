import { Gauge, type Registry } from 'prom-client';
import type { QueryChannel } from './query-channel';

/** Calls per batch is how well the channel amortises its exchanges; operators watch it here. */
export function queryChannelMetrics(registry: Registry, channel: QueryChannel): void {
  new Gauge({
    name: 'gdx_gateway_query_channel_calls',
    help: 'Interface queries sent to data-query through the batch channel',
    registers: [registry],
    collect() {
      this.set(channel.stats.calls);
    },
  });
  new Gauge({
    name: 'gdx_gateway_query_channel_batches',
    help: 'Batches sent to data-query (calls ÷ batches = calls per exchange)',
    registers: [registry],
    collect() {
      this.set(channel.stats.batches);
    },
  });
}
