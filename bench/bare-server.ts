// The baseline for authenticated GETs: Fastify with its defaults and one
// route returning a constant.
// `node --import tsx bench/bare-server.ts PORT [CERT_FILE KEY_FILE]` (with the files: HTTPS).

import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';

const [port, certFile, keyFile] = process.argv.slice(2);
const app = (certFile && keyFile ? Fastify({ https: { cert: readFileSync(certFile), key: readFileSync(keyFile) } }) : Fastify()) as unknown as FastifyInstance;
app.get('/', async () => ({ status: 'running' }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
