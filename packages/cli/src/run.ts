import { main } from './main.js';

// Entry point of the `trellis` binary (bin/trellis.js runs this file or its build).
process.exitCode = await main(process.argv.slice(2));
