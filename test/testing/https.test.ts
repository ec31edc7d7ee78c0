/**
 * attach-ws/testing with an https.Server: in memory through the app (TLS
 * cannot run over the in-process pair, so a plain HTTP front parses the
 * request and hands the upgrade to the https server's listener), and over
 * TLS on an ephemeral port. The certificate is made for the test by openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { attachWs } from 'attach-ws';
import { request } from 'attach-ws/testing';

function selfSignedCert(): { key: Buffer; cert: Buffer } | null {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attach-ws-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSignedCert();
if (tls === null) process.stderr.write('\n!!! openssl is missing: skipping the https tests of attach-ws/testing\n\n');
const describeTls = tls === null ? describe.skip : describe;

describeTls('an app attached to an https.Server', () => {
  function secureEcho(): { app: express.Express; server: https.Server } {
    const app = express();
    const server = https.createServer(tls!, app);
    attachWs(app, server);
    app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(data)));
    return { app, server };
  }

  test('runs in memory through the app', async () => {
    const { app, server } = secureEcho();
    await request(app).ws('/echo').sendText('in memory').expectText('in memory').close(1000).expectClosed(1000);
    expect(server.listening).toBe(false);
  });

  test('runs over TLS on an ephemeral port through the server, then stops listening', async () => {
    const { server } = secureEcho();
    await request(server).ws('/echo').sendText('over tls').expectText('over tls');
    expect(server.listening).toBe(false);
  });
});
