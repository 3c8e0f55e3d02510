// `fastify4` is the devDependency alias `npm:fastify@^4`, typed like the Fastify 5 types in use.
declare module 'fastify4' {
  import fastify from 'fastify';
  export default fastify;
}

// `fastify-compress7` is the devDependency alias `npm:@fastify/compress@^7`, the last major for Fastify 4.
declare module 'fastify-compress7' {
  import compress from '@fastify/compress';
  export default compress;
}
