// The baseline for authenticated GETs: Fastify with its defaults and one
// route returning a constant. `node --import tsx bench/bare-server.ts PORT`.

import Fastify from 'fastify';

const app = Fastify();
app.get('/', async () => ({ status: 'running' }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
