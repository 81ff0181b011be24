// The tus reference server as a target of bench/run-upload-bench.sh: @tus/server with @tus/file-store, as its README
// sets it up. Clients use creation-with-upload (one POST per file: Upload-Length + the body).
// Usage: node server.mjs <port> <directory>
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [port, directory] = process.argv.slice(2);
const server = new Server({ path: '/files', datastore: new FileStore({ directory }) });
server.listen({ host: '127.0.0.1', port: Number(port) }, () => console.log(`tus server on ${port}`));
