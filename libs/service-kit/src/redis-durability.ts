/**
 * What is wrong with a Redis that carries the platform's events, from two of its settings:
 * evicted stream entries are lost events, and without AOF a restart loses the streams.
 */
export function redisDurabilityProblems(maxmemoryPolicy: unknown, appendonly: unknown): string[] {
  return [
    ...(maxmemoryPolicy !== 'noeviction' ? [`maxmemory-policy is ${String(maxmemoryPolicy)}, not noeviction (evicted stream entries are lost events)`] : []),
    ...(appendonly !== 'yes' ? ['appendonly is off (a restart loses the event streams)'] : []),
  ];
}
