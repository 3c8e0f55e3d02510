// `fastify4` is the devDependency alias `npm:fastify@^4`, typed like the Fastify 5 types in use.
declare module 'fastify4' {
  import fastify from 'fastify';
  export default fastify;
}
