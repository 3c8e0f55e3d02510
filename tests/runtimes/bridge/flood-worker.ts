import { floodServer } from './flood.js';

export default { fetch: (request: Request) => floodServer(request) };
