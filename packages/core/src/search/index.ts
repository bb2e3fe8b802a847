export * from './coded-token.ts';
export * from './consumer-search-params.ts';
export * from './fhir-date.ts';
export * from './page-token.ts';
export * from './search-facts.ts';
export * from './search-model.ts';
export * from './token.ts';
export * from './type-access.ts';
