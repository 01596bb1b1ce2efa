/** Events of a type `grant.issued` travel on the stream of their domain, `grant`. */
export function domainOf(type: string): string {
  return type.split('.')[0];
}

export function streamKey(prefix: string, domain: string): string {
  return `${prefix}events:${domain}`;
}

export function deadLetterKey(prefix: string): string {
  return `${prefix}events:dead-letter`;
}
