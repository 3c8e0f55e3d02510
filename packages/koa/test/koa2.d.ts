// `koa2` is the devDependency alias `npm:koa@^2`, typed like the Koa 3 types in use.
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
