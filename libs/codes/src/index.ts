export * from './check-digits';
export * from './reference';
export * from './text-normalize';
export * from './value-clean';
