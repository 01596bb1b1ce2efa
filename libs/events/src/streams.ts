/** Events of a type `grant.issued` travel on the stream of their domain, `grant`. */
export function domainOf(type: string): string {
  return type.split('.')[0];
}

/**
 * The streams of one platform share a Redis Cluster hash tag (`{<prefix>events}`): a consumer
 * reads several domains in one XREADGROUP, which Redis Cluster allows only for keys of one slot
 * (else CROSSSLOT). One slot for the event streams is the price; they are one log, read together.
 */
export function streamKey(prefix: string, domain: string): string {
  return `{${prefix}events}:${domain}`;
}

export function deadLetterKey(prefix: string): string {
  return `{${prefix}events}:dead-letter`;
}

/**
 * A marker of the Redis that holds the streams (a random id, set by the first relay that finds
 * none): when it is gone or changed, Redis lost the streams and the relays publish again what
 * the consumer groups had not acknowledged.
 */
export function epochKey(prefix: string): string {
  return `{${prefix}events}:epoch`;
}
