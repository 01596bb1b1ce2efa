export * from './check-digits';
export * from './reference';
