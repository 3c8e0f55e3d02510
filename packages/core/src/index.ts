// What users of @sse/core import. Adapter authors import `@sse/core/adapter` as well.
export * from './user-api.js';
export { createFetchHandler } from './web.js';
