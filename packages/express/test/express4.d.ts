// `express4` is the devDependency alias `npm:express@^4`, typed like the Express 5 types in use.
declare module 'express4' {
  import express from 'express';
  export default express;
}
