import { runConformance } from '../src/index.js';
import { target } from './test-sink.js';

// The suite's reference adapter: a plain node:http sink written from SINK.md passes every case.
runConformance(target('none'));
