#!/usr/bin/env node
// The installed `rbac` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs).
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
